"""Data-subject requests: per-customer export (ZIP) and erasure, over HTML, API and CLI; only
admins and managers; another team's customer is a 404."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from tradecrm.audit.models import AuditEvent
from tradecrm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_company, alice):
    from tradecrm.interactions.services import attachment_add, interaction_create

    c = make_company(name="Acme Imports LLC", email="buy@acme.example", phones=["+13125550123"], tax_id="12-3456789",
                     notes="CEO is Jim, private")  # fmt: skip
    Contact.objects.create(company=c, first_name="Jane", last_name="Doe", emails=["jane@acme.example"],
                           phones=["+13125550199"], notes="likes golf")  # fmt: skip
    entry = interaction_create(actor=alice, company=c, data={"type": "call", "subject": "Price talk with Jane",
                                                               "body": "Jane wants 3% off", "occurred_at": "2026-03-04T09:00"})  # fmt: skip
    attachment_add(actor=alice, interaction=entry, upload=ContentFile(b"hello jane", name="notes.txt"))
    return c


def test_export_zip_holds_everything_decrypted_and_is_audited(acme, carol, client_for):
    r = client_for(carol).get(f"/audit/customers/{acme.pk}/data-export/")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    data = json.loads(zf.read("data.json"))
    assert data["company"]["tax_id"] == "123456789" and data["company"]["notes"] == "CEO is Jim, private"
    assert data["contacts"][0]["notes"] == "likes golf"
    assert data["interactions"][0]["body"] == "Jane wants 3% off"
    assert any(e["action"] == "company.create" for e in data["audit_events"])
    names = [n for n in zf.namelist() if n.startswith("attachments/")]
    assert len(names) == 1 and zf.read(names[0]) == b"hello jane"
    e = AuditEvent.objects.filter(action="export", object_id=acme.pk).get()
    assert e.actor_name == "carol" and e.changes["contacts"] == 1


def test_sales_rep_may_not_export_and_other_team_gets_404(acme, alice, dave, client_for):
    assert client_for(alice).get(f"/audit/customers/{acme.pk}/data-export/").status_code == 403
    assert client_for(dave).get(f"/audit/customers/{acme.pk}/data-export/").status_code == 404
    assert client_for(dave).get(f"/audit/customers/{acme.pk}/erase/").status_code == 404
    assert client_for(dave).post(f"/audit/customers/{acme.pk}/erase/", {"confirm": "1"}).status_code == 404
    assert not AuditEvent.objects.filter(action__in=["export", "erasure"]).exists()


def test_api_export_and_erase(acme, admin, dave, alice, api_for):
    path = f"/api/v1/privacy/companies/{acme.pk}"
    assert api_for(dave).get(f"{path}/data-export").status_code == 404
    assert api_for(dave).post(f"{path}/erase").status_code == 404
    assert api_for(alice).get(f"{path}/data-export").status_code == 403
    assert api_for(alice).post(f"{path}/erase").status_code == 403
    assert Company.objects.get(pk=acme.pk).email == "buy@acme.example"
    r = api_for(admin).get(f"{path}/data-export")
    assert r.status_code == 200 and "data.json" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    r = api_for(admin).post(f"{path}/erase")
    assert r.status_code == 200 and r.json()["counts"]["contacts"] == 1
    assert Company.objects.get(pk=acme.pk).email == ""


def test_erase_anonymises_keeps_business_records_and_audits(acme, admin, client_for):
    attachment_name = acme.interactions.get().attachments.get().file.name
    page = client_for(admin).get(f"/audit/customers/{acme.pk}/erase/")
    assert page.status_code == 200 and b"cannot be undone" in page.content
    refused = client_for(admin).post(f"/audit/customers/{acme.pk}/erase/", {})
    assert refused.status_code == 400 and Contact.objects.get(company=acme).last_name == "Doe"
    r = client_for(admin).post(f"/audit/customers/{acme.pk}/erase/", {"confirm": "1"})
    assert r.status_code == 302
    c = Company.objects.get(pk=acme.pk)
    assert (c.name, c.email, c.phones, c.tax_id, c.tax_id_hash, c.notes) == ("Acme Imports LLC", "", [], "", "", "")
    contact = Contact.objects.get(company=acme)
    assert (contact.first_name, contact.last_name, contact.emails, contact.notes) == ("Erased contact", "", [], "")
    entry = acme.interactions.get()
    assert (entry.subject, entry.body, entry.attachments.count()) == ("", "", 0)
    e = AuditEvent.objects.filter(action="erasure", object_id=acme.pk).get()
    assert e.changes["counts"]["contacts"] == 1 and "Jane" not in json.dumps(e.changes)
    assert attachment_name  # deleted after the commit: test_erase_deletes_files_on_commit


def test_erase_deletes_files_on_commit(acme, admin, django_capture_on_commit_callbacks):
    from tradecrm.audit.privacy import customer_data_erase

    name = acme.interactions.get().attachments.get().file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        customer_data_erase(actor=admin, company=acme)
    assert not default_storage.exists(name)


def test_cli_export_and_erase(acme, tmp_path: Path, capsys):
    call_command("customer_data", "export", str(acme.pk), str(tmp_path / "out.zip"))
    data = json.loads(zipfile.ZipFile(tmp_path / "out.zip").read("data.json"))
    assert data["company"]["name"] == "Acme Imports LLC"
    call_command("customer_data", "erase", str(acme.pk))  # without --yes: nothing happens
    assert Contact.objects.get(company=acme).last_name == "Doe"
    call_command("customer_data", "erase", str(acme.pk), "--yes")
    assert Contact.objects.get(company=acme).last_name == ""
    assert AuditEvent.objects.filter(action="erasure", source="cli").exists()
    assert AuditEvent.objects.filter(action="export", source="cli").exists()
