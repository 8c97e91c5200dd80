"""A report (its table) as an XLSX workbook or a PDF page, for the "Export" menu of every report
page and the API. Only for viewers who may export (`accounts.access.can_export`); each export is an
audit event ("export", with the report, the format and the filters), like the list exports."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import can_export
from tradecrm.audit.services import audit_record
from tradecrm.imports.values import neutralize_cell

from .dashboard import ReportData, ReportFilters

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"
FORMATS = ("xlsx", "pdf")


@dataclass
class ReportFile:
    content: bytes
    content_type: str
    filename: str


def _filter_lines(data: ReportData, filters: ReportFilters) -> list[str]:
    lines = [_("Period: %(start)s – %(end)s") % {"start": filters.date_from.isoformat(),
                                                  "end": filters.date_to.isoformat()}]  # fmt: skip
    if filters.team is not None:
        lines.append(_("Team: %(team)s") % {"team": filters.team.name})
    return [data.description, *lines, *data.notes]


def to_xlsx(data: ReportData, filters: ReportFilters) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(data.title[:31])
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    money = book.add_format({"num_format": "#,##0.00"})
    number = book.add_format({"num_format": "#,##0.###"})
    percent = book.add_format({"num_format": "0.0"})
    formats = {"money": money, "number": number, "percent": percent, "days": percent}
    sheet.write(0, 0, data.title, title)
    row = 1
    for line in _filter_lines(data, filters):
        sheet.write_string(row, 0, line)
        row += 1
    row += 1
    for c, col in enumerate(data.columns):
        sheet.write_string(row, c, col.label, bold)
        sheet.set_column(c, c, max(12, min(40, len(col.label) + 4)))
    for r in data.rows:
        row += 1
        for c, col in enumerate(data.columns):
            value = r.get(col.key)
            if value is None:
                continue
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                sheet.write_number(row, c, float(value), formats.get(col.kind))
            else:
                # a cell starting with = + - @ would run as a formula in a spreadsheet
                sheet.write_string(row, c, neutralize_cell(str(value)))
    if data.totals:
        row += 1
        sheet.write_string(row, 0, _("Total"), bold)
        for c, col in enumerate(data.columns):
            if c and col.key in data.totals:
                sheet.write_number(row, c, float(data.totals[col.key]), formats.get(col.kind))
    book.close()
    return out.getvalue()


def to_pdf(data: ReportData, filters: ReportFilters) -> bytes:
    from tradecrm.documents.pdf import html_to_pdf

    html = render_to_string("reports/report_pdf.html", {
        "data": data, "lines": _filter_lines(data, filters), "now": timezone.now(),
        "rows": [[(r.get(c.key), c.kind) for c in data.columns] for r in data.rows],
        "totals": [(data.totals or {}).get(c.key) if i else None for i, c in enumerate(data.columns)],
        "kinds": [c.kind for c in data.columns],
    })  # fmt: skip
    return html_to_pdf(html)


def report_export(
    *, actor, data: ReportData, filters: ReportFilters, fmt: str, via: str = "web"
) -> ReportFile:
    """The report's table as a file. PermissionDenied without the export permission. The file is
    made before the audit event's transaction (a PDF takes a while; no write lock meanwhile)."""
    if not can_export(actor):
        raise PermissionDenied(_("You may not export reports; an administrator can allow it."))
    if fmt not in FORMATS:
        from tradecrm.core.errors import ValidationError

        raise ValidationError(
            {"format": [_("Unknown format “%(value)s”: use xlsx or pdf.") % {"value": fmt[:20]}]}
        )
    content = to_xlsx(data, filters) if fmt == "xlsx" else to_pdf(data, filters)
    with transaction.atomic():
        audit_record(actor=actor, action="export", object_type="report",
                     changes={"report": data.key, "format": fmt, "filters": filters.as_params(),
                              "rows": len(data.rows), "via": via})  # fmt: skip
    stamp = f"{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}"
    return ReportFile(
        content=content,
        content_type=XLSX_CONTENT_TYPE if fmt == "xlsx" else PDF_CONTENT_TYPE,
        filename=f"{data.key}-{stamp}.{fmt}",
    )
