"""Gap-free document numbers per series and year: Q-2026-0012, PI-2026-0003, SO-2026-0101.

`take_number` must run inside the transaction that issues the document. It locks the series row
(SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers), so
two concurrent issues never get the same number, and a rolled-back issue gives its number back:
the counter's increment rolls back with it, which is what keeps the series without gaps.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from .models import DocumentSeries, SeriesKind

PREFIXES = {SeriesKind.QUOTATION: "Q", SeriesKind.PROFORMA: "PI", SeriesKind.ORDER: "SO"}
WIDTH = 4


def format_number(prefix: str, year: int, n: int) -> str:
    return f"{prefix}-{year}-{n:0{WIDTH}d}"


def revision_number(base_number: str, revision: int) -> str:
    """The number printed on a revision: the first issue is the base number, later ones -R2, -R3…"""
    return base_number if revision <= 1 else f"{base_number}-R{revision}"


def _locked_series(kind: str, year: int) -> DocumentSeries:
    qs = DocumentSeries.objects.select_for_update()
    try:
        return qs.get(kind=kind, year=year)
    except DocumentSeries.DoesNotExist:
        pass
    try:
        # a savepoint: if another transaction created the row first, only this insert fails
        with transaction.atomic():
            DocumentSeries.objects.create(kind=kind, year=year, prefix=PREFIXES[kind])
    except IntegrityError:
        pass
    return qs.get(kind=kind, year=year)


def take_number(kind: str, on: dt.date) -> str:
    """The next number of `kind`'s series for `on`'s year. Call inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_number must run inside the transaction that issues the document")
    series = _locked_series(kind, on.year)
    series.last_number += 1
    DocumentSeries.objects.filter(pk=series.pk).update(last_number=series.last_number)
    return format_number(series.prefix, series.year, series.last_number)
