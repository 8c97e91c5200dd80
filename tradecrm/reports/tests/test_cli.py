"""`tradecrm export --entity … --format csv|xlsx --out PATH [--as USERNAME] [filters]`."""

import csv
import json

import pytest
import python_calamine
from django.core.management import CommandError, call_command

from tradecrm.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_exports_everything_as_the_system(tmp_path, make_company, dave, acme, capsys):
    make_company(actor=dave, name="West Only GmbH", country="DE")
    out = tmp_path / "all.csv"
    call_command("export", entity="companies", out=out, json=True)
    report = json.loads(capsys.readouterr().out)
    assert report == {"entity": "companies", "format": "csv", "rows": 2, "path": str(out),
                      "bytes": out.stat().st_size, "filters": {}}  # fmt: skip
    with open(out, encoding="utf-8-sig", newline="") as fh:
        names = sorted(r["Company name"] for r in csv.DictReader(fh))
    assert names == ["Acme Imports LLC", "West Only GmbH"]
    event = AuditEvent.objects.get(action="export")
    assert event.actor is None and event.changes["via"] == "cli"


def test_as_a_user_with_filters_and_xlsx(tmp_path, exporter, dave, make_company, acme, capsys):
    make_company(actor=dave, name="West Only GmbH", country="DE")
    make_company(name="Berlin Buyers GmbH", country="DE", status="prospect")
    out = tmp_path / "de.xlsx"
    call_command("export", "--entity", "companies", "--out", str(out), "--as", "alice", "--country", "DE",
                 "--status", "prospect", "--owner", "alice")  # fmt: skip
    assert "Exported 1 rows of companies" in capsys.readouterr().out
    table = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert [r[1] for r in table[1:]] == ["Berlin Buyers GmbH"]


def test_generic_filters_and_errors(tmp_path, alice, carol, make_order):
    order = make_order()
    out = tmp_path / "orders.csv"
    call_command("export", "--entity", "orders", "--out", str(out), "--as", "carol", "--filter", "date_from=2026-01-01",
                 "--filter", f"q={order.number}")  # fmt: skip
    assert order.number in out.read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError, match="export permission"):
        call_command("export", "--entity", "orders", "--out", str(out), "--as", "alice")
    with pytest.raises(CommandError, match="date_from: Enter a date"):
        call_command("export", "--entity", "orders", "--out", str(out), "--filter", "date_from=soon")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("export", "--entity", "orders", "--out", str(out), "--filter", "oops")
    with pytest.raises(CommandError, match="No active user"):
        call_command("export", "--entity", "orders", "--out", str(out), "--as", "nobody")
