"""`tradecrm merge` and `tradecrm merge_undo` (also `merge-undo` through the console script)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tradecrm.customers.models import Company, Contact
from tradecrm.customers.services import contact_create
from tradecrm.dedup.models import MergeRecord

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_merge_json_then_undo(alice, make_company):
    a = make_company(name="Hengda Trading")
    b = make_company(name="Hengda Trading Co., Ltd.", city="Ningbo")
    c = make_company(name="Ningbo Hengda")
    contact_create(actor=alice, company=b, data={"first_name": "Li"})
    data = json.loads(
        run("merge", "--keep", str(a.pk), str(b.pk), str(c.pk), "--json", "--choose", f"name={c.pk}")
    )
    assert data["kept"] == {"id": a.pk, "label": "Ningbo Hengda", "exists": True}
    assert [m["id"] for m in data["merged"]] == [b.pk, c.pk] and data["actor"] is None
    assert {"key": "customers.contact.company_id", "label": "Contacts", "count": 1} in data["moved"]
    assert Company.objects.get().city == "Ningbo" and Contact.objects.get().company_id == a.pk

    undone = json.loads(run("merge_undo", str(data["id"]), "--json"))
    assert undone["undone_at"] and undone["result"]["moved_back"] >= 1
    assert Company.objects.count() == 3 and Contact.objects.get().company_id == b.pk


def test_merge_text_output_and_acting_as_a_user(alice, make_company):
    a, b = make_company(name="Acme"), make_company(name="ACME")
    text = run("merge", "--keep", str(a.pk), str(b.pk), "--as", "alice")
    record = MergeRecord.objects.get()
    assert f"Merge #{record.pk}" in text and f"tradecrm merge_undo {record.pk}" in text
    assert record.actor_id == alice.pk


def test_contacts_entity(alice, make_company):
    acme = make_company()
    x = contact_create(actor=alice, company=acme, data={"first_name": "Jane", "emails": ["j@acme.com"]})
    y = contact_create(actor=alice, company=acme, data={"first_name": "Jane", "emails": ["jane@acme.com"]})
    data = json.loads(run("merge", "--entity", "contacts", "--keep", str(x.pk), str(y.pk), "--json"))
    assert data["entity"] == "contacts" and Contact.objects.get().emails == ["j@acme.com", "jane@acme.com"]


def test_errors_are_specific(alice, dave, make_company):
    a, b = make_company(name="Acme"), make_company(name="ACME")
    with pytest.raises(CommandError, match="Not found"):
        run("merge", "--keep", str(a.pk), str(b.pk), "--as", "dave")
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        run("merge", "--keep", str(a.pk), str(b.pk), "--as", "nobody")
    with pytest.raises(CommandError, match="chosen.city"):
        run("merge", "--keep", str(a.pk), str(b.pk), "--choose", "city=77")
    with pytest.raises(CommandError, match="FIELD=ID"):
        run("merge", "--keep", str(a.pk), str(b.pk), "--choose", "city")
    with pytest.raises(CommandError, match="No merge #999"):
        run("merge_undo", "999")
    assert Company.objects.count() == 2


def test_console_script_accepts_merge_undo_with_a_hyphen(alice, make_company, monkeypatch):
    from tradecrm import cli

    a, b = make_company(name="Acme"), make_company(name="ACME")
    run("merge", "--keep", str(a.pk), str(b.pk))
    called = {}
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: called.update(argv=argv)
    )
    cli.main(["tradecrm", "merge-undo", str(MergeRecord.objects.get().pk)])
    assert called["argv"][1] == "merge_undo"
