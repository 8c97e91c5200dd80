"""Numbers per series and year, without gaps: a rolled-back issue gives its number back."""

import datetime as dt

import pytest
from django.db import transaction

from tradecrm.documents.models import DocumentSeries, SeriesKind
from tradecrm.documents.numbering import revision_number, take_number

DAY = dt.date(2026, 11, 25)


@pytest.mark.django_db(transaction=True)
def test_numbers_follow_each_other_per_kind_and_year():
    with transaction.atomic():
        assert take_number(SeriesKind.QUOTATION, DAY) == "Q-2026-0001"
        assert take_number(SeriesKind.QUOTATION, DAY) == "Q-2026-0002"
        assert take_number(SeriesKind.PROFORMA, DAY) == "PI-2026-0001"
        assert take_number(SeriesKind.QUOTATION, dt.date(2027, 1, 2)) == "Q-2027-0001"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_issue_leaves_no_gap():
    with transaction.atomic():
        take_number(SeriesKind.ORDER, DAY)
    with pytest.raises(RuntimeError), transaction.atomic():
        take_number(SeriesKind.ORDER, DAY)
        raise RuntimeError("the issue fails after taking SO-2026-0002")
    with transaction.atomic():
        assert take_number(SeriesKind.ORDER, DAY) == "SO-2026-0002"
    assert DocumentSeries.objects.get(kind="order", year=2026).last_number == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        take_number(SeriesKind.QUOTATION, DAY)


def test_revision_suffix():
    assert revision_number("Q-2026-0012", 1) == "Q-2026-0012"
    assert revision_number("Q-2026-0012", 2) == "Q-2026-0012-R2"
