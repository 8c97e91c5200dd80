"""The import engine: rows → created / updated / merged / rejected, chunks and resume, undo."""

from __future__ import annotations

import csv

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.audit.models import AuditEvent
from tradecrm.customers.models import Company, CompanyTag, Contact, Tag
from tradecrm.dedup.models import CompanyKey, ContactKey
from tradecrm.imports import engine, services
from tradecrm.imports.models import ImportChange, ImportChunk, ImportJob, ImportRejection, JobStatus

pytestmark = pytest.mark.django_db

HEADER = "Company Name,Country,City,Website,E-mail,Tel,Contact Person,Contact Email,Mobile,Remarks\n"
ROWS = (
    '"Ningbo Hengda Trading Co., Ltd.",China,Ningbo,www.hengda.cn,sales@hengda.cn,0574 8765 4321,Li Wei,'
    "li.wei@hengda.cn,13812345678,Canton Fair\n"
    "Acme Imports LLC,USA,Chicago,acme-imports.com,info@acme-imports.com,+1 312 555 0100,John Smith,"
    "john@acme-imports.com,,\n"
    "ACME IMPORTS,US,Chicago,https://www.acme-imports.com/,,,Mary Jones,mary@acme-imports.com,,met again\n"
    ",Germany,Berlin,,x@,,,,,\n"
)


def csv_upload(text: str, name: str = "leads.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def make_job(actor, text: str, *, entity="companies", source="generic", mapping=None, **options) -> ImportJob:
    job = services.import_job_create(actor=actor, upload=csv_upload(text), filename="leads.csv", entity=entity,
                                     source=source)  # fmt: skip
    if options or mapping is not None:
        job = services.import_job_configure(
            actor=actor, job=job, version=job.version,
            mapping=mapping if mapping is not None else {int(k): v for k, v in job.mapping.items()},
            options={**job.options, **options},
        )  # fmt: skip
    return job


def run(job, actor=None, **kw) -> ImportJob:
    services.import_job_start(actor=actor or job.created_by, job=job, background=False)
    services.import_job_run(job.pk, use_process=False, **kw)
    return ImportJob.objects.get(pk=job.pk)


def counts(job) -> dict:
    return {
        k: getattr(job, k) for k in ("rows_read", "created", "updated", "merged", "rejected", "unchanged")
    }


# --- companies ----------------------------------------------------------------------------------


def test_companies_created_merged_rejected(alice):
    job = make_job(alice, HEADER + ROWS)
    job = run(job)
    assert job.status == JobStatus.DONE
    assert counts(job) == {
        "rows_read": 4,
        "created": 2,
        "updated": 0,
        "merged": 1,
        "rejected": 1,
        "unchanged": 0,
    }
    hengda = Company.objects.get(name="Ningbo Hengda Trading Co., Ltd.")
    assert hengda.country == "CN" and hengda.owner == alice and hengda.team_id == alice.team_id
    assert hengda.phones == ["+8657487654321"]
    assert hengda.website == "https://www.hengda.cn" and hengda.email_domains == ["hengda.cn"]
    assert hengda.timezone == "Asia/Shanghai" and hengda.notes == "Canton Fair"
    assert "hengda" in hengda.search_text and "li" in hengda.search_text
    li = Contact.objects.get(company=hengda)
    assert (li.first_name, li.last_name, li.emails, li.phones, li.is_primary) == (
        "Li", "Wei", ["li.wei@hengda.cn"], ["+8613812345678"], True)  # fmt: skip
    assert li.email == "li.wei@hengda.cn" and "li.wei@hengda.cn" in li.search_text
    acme = Company.objects.get(name="Acme Imports LLC")
    # the second Acme row merged: its contact added, its note appended, nothing overwritten
    assert sorted(Contact.objects.filter(company=acme).values_list("first_name", flat=True)) == [
        "John",
        "Mary",
    ]
    assert acme.notes == "met again" and acme.city == "Chicago"
    # keys written for the duplicate check
    assert CompanyKey.objects.filter(company=acme).exists()
    assert ContactKey.objects.filter(contact=li).exists()
    rejected = ImportRejection.objects.get(job=job)
    assert rejected.row == 5
    assert rejected.reasons == [
        "column “E-mail”: “x@” is not a valid email address: There must be something after the @-sign.",
        "column “Company Name”: The company name is required.",
    ]
    assert AuditEvent.objects.filter(action="import.run", object_id=job.pk).exists()
    # what the run itself wrote is attributed to the import, not to the command line
    run_events = AuditEvent.objects.filter(at__gte=job.created_at).exclude(action__startswith="import_job")
    assert set(run_events.values_list("source", flat=True)) <= {"import", "cli"}
    assert AuditEvent.objects.get(action="import.run", object_id=job.pk).source == "import"


def test_dry_run_writes_nothing_and_reports_rows(alice):
    job = make_job(alice, HEADER + ROWS)
    report = services.import_job_dry_run(actor=alice, job=job)
    assert {k: report[k] for k in ("rows_read", "created", "merged", "rejected")} == {
        "rows_read": 4, "created": 2, "merged": 1, "rejected": 1}  # fmt: skip
    assert [r["action"] for r in report["rows"]] == ["created", "created", "merged", "rejected"]
    assert report["rows"][2]["reasons"] == ["same name and country", "same email domain or website"]
    assert Company.objects.count() == 0 and Contact.objects.count() == 0 and not ImportChunk.objects.exists()
    job.refresh_from_db()
    assert job.status == JobStatus.CHECKED and job.report["created"] == 2


def test_same_file_twice_changes_nothing(alice):
    run(make_job(alice, HEADER + ROWS))
    before = list(Company.objects.order_by("id").values())
    contacts = Contact.objects.count()
    job = run(make_job(alice, HEADER + ROWS))
    assert counts(job) == {
        "rows_read": 4,
        "created": 0,
        "updated": 0,
        "merged": 3,
        "rejected": 1,
        "unchanged": 3,
    }
    assert list(Company.objects.order_by("id").values()) == before
    assert Contact.objects.count() == contacts
    assert not ImportChange.objects.filter(job=job).exists()


def test_merge_fills_empty_fields_and_undo_restores(alice, make_company):
    acme = make_company(name="Acme Imports LLC", country="US", website="acme-imports.com")
    job = run(
        make_job(
            alice,
            HEADER + "Acme Imports Inc.,US,Chicago,,,+1 312 555 0100,John Smith,john@acme-imports.com,,VIP\n",
        )
    )
    assert counts(job)["merged"] == 1 and counts(job)["unchanged"] == 0
    acme.refresh_from_db()
    assert acme.city == "Chicago" and acme.phones == ["+13125550100"] and acme.notes == "VIP"
    assert acme.name == "Acme Imports LLC"  # the name is never overwritten
    assert acme.version == 2
    change = ImportChange.objects.get(job=job)
    assert change.before["city"] == "" and change.after["city"] == "Chicago"
    result = services.import_undo(actor=alice, job=job)
    acme.refresh_from_db()
    assert (acme.city, acme.phones, acme.notes) == ("", [], "")
    assert not Contact.objects.filter(company=acme).exists()  # the contact it added is gone
    assert result["deleted"] == 1 and result["restored"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.UNDONE
    assert AuditEvent.objects.filter(action="import.undo", object_id=job.pk).exists()


def test_undo_keeps_a_field_changed_after_the_import(alice, make_company):
    from tradecrm.customers.services import company_update

    acme = make_company(name="Acme Imports LLC", country="US", website="acme-imports.com")
    job = run(make_job(alice, HEADER + "Acme Imports LLC,US,Chicago,,,,,,,first note\n"))
    acme.refresh_from_db()
    company_update(actor=alice, company=acme, version=acme.version, data={"city": "Evanston"})
    result = services.import_undo(actor=alice, job=job)
    acme.refresh_from_db()
    assert acme.city == "Evanston" and acme.notes == ""
    assert any("city" in k for k in result["kept"])


def test_match_with_a_company_the_actor_cannot_see_is_rejected(alice, dave, make_company):
    make_company(actor=dave, name="Acme Imports LLC", country="US", website="acme-imports.com")
    job = run(make_job(alice, HEADER + "Acme Imports,US,,www.acme-imports.com,,,,,,\n"))
    assert counts(job)["rejected"] == 1 and counts(job)["created"] == 0
    reason = ImportRejection.objects.get(job=job).reasons[0]
    assert reason == "“Acme Imports LLC” is already in the archive, owned by Dave (team West)."


def test_same_name_different_websites_are_different_companies(alice):
    job = run(
        make_job(
            alice,
            HEADER
            + "Sunrise Trading LLC,US,,sunrise-a.com,,,,,,\nSunrise Trading LLC,US,,sunrise-b.com,,,,,,\n",
        )
    )
    assert counts(job)["created"] == 2


def test_on_duplicate_skip_and_create(alice, make_company):
    make_company(name="Acme Imports LLC", country="US")
    job = run(make_job(alice, HEADER + "Acme Imports LLC,US,Chicago,,,,,,,\n", on_duplicate="skip"))
    assert counts(job) == {
        "rows_read": 1,
        "created": 0,
        "updated": 0,
        "merged": 1,
        "rejected": 0,
        "unchanged": 1,
    }
    assert Company.objects.get().city == ""
    job = run(make_job(alice, HEADER + "Acme Imports LLC,US,Chicago,,,,,,,\n", on_duplicate="create"))
    assert counts(job)["created"] == 1 and Company.objects.count() == 2


def test_update_by_id_overwrites_and_needs_a_visible_record(alice, dave, make_company):
    mine = make_company(name="Acme Imports LLC", country="US", city="Chicago")
    theirs = make_company(actor=dave, name="West Corp", country="US")
    text = (
        f"ID (TradeCRM),Company Name,City\n{mine.pk},Acme Imports LLC,Boston\n{theirs.pk},West Corp,Denver\n"
    )
    job = make_job(alice, text, mapping={0: "id", 1: "name", 2: "city"})
    job = run(job)
    assert counts(job)["updated"] == 1 and counts(job)["rejected"] == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.city == "Boston" and theirs.city == ""
    assert ImportRejection.objects.get(job=job).reasons == [
        f"column “ID (TradeCRM)”: No company with ID {theirs.pk} that you can see."]  # fmt: skip


def test_bad_values_give_every_reason_with_the_column(alice):
    text = (
        "Company Name,Country,E-mail,Tel,Website,Cooperation since,Status\n"
        "Bad Co,Atlantis,a@b@c,12,not a site,31/31/2024,Bogus\n"
        '"=HYPERLINK(""http://x"",""click"")",DE,,,,,\n'
    )
    job = make_job(alice, text, mapping={0: "name", 1: "country", 2: "email", 3: "phones", 4: "website",
                                         5: "cooperation_since", 6: "status"})  # fmt: skip
    job = run(job)
    assert counts(job)["rejected"] == 2
    first, second = ImportRejection.objects.filter(job=job).order_by("row")
    assert first.row == 2 and len(first.reasons) == 6
    assert any(r.startswith("column “Country”: “Atlantis” is not a country") for r in first.reasons)
    assert any(r.startswith("column “Tel”:") for r in first.reasons)
    assert any(
        r.startswith("column “Status”: “Bogus” is not one of the available choices") for r in first.reasons
    )
    assert second.row == 3 and "spreadsheet formula" in second.reasons[0]


def test_tags_and_owner_columns(alice, bob, carol, dave):
    Tag.objects.create(name="VIP", team=alice.team)
    text = 'Company Name,Country,Tags,Owner\nA One,DE,"vip, Fair 2025",alice\nB Two,DE,,dave\n'
    job = run(make_job(alice, text, mapping={0: "name", 1: "country", 2: "tags", 3: "owner"}))
    assert counts(job)["created"] == 1 and counts(job)["rejected"] == 1
    a = Company.objects.get(name="A One")
    # alice (sales) may not give customers to bob; she may to herself only
    assert ImportRejection.objects.get(job=job).reasons[0].startswith("column “Owner”")
    job = run(make_job(carol, "Company Name,Country,Tags,Owner\nC Three,DE,\"vip, Fair 2025\",bob\n",
                       mapping={0: "name", 1: "country", 2: "tags", 3: "owner"}))  # fmt: skip
    c = Company.objects.get(name="C Three")
    assert c.owner == bob and c.team_id == bob.team_id
    assert sorted(c.tags.values_list("name", flat=True)) == ["Fair 2025", "VIP"]
    assert a.owner == alice


def test_options_tags_and_default_country(alice):
    tag = Tag.objects.create(name="Canton Fair", team=alice.team)
    job = run(make_job(alice, "Company Name,Tel\nNo Country Co,030 1234567\n", mapping={0: "name", 1: "phones"},
                       tag_ids=[tag.pk], default_country="DE"))  # fmt: skip
    c = Company.objects.get()
    assert c.country == "DE" and c.phones == ["+49301234567"]
    assert list(CompanyTag.objects.filter(company=c).values_list("tag_id", flat=True)) == [tag.pk]
    assert counts(job)["created"] == 1


def test_contact_without_a_name_keeps_its_email_on_the_company(alice):
    text = "Company Name,Country,Contact Email\nNameless Co,DE,info@nameless.de\n"
    run(make_job(alice, text, mapping={0: "name", 1: "country", 2: "contact_email"}))
    c = Company.objects.get()
    assert c.email == "info@nameless.de" and not Contact.objects.exists()


def test_source_defaults_and_chinese_headers(alice):
    text = "公司名称,国家,电话,联系人\n宁波恒达贸易有限公司,中国,0574 8765 4321,张伟\n"
    job = services.import_job_create(actor=alice, upload=csv_upload(text, encoding="gb18030"), filename="展会.csv",
                                     entity="companies", source="trade_show")  # fmt: skip
    assert job.encoding in ("gb18030", "gbk")
    job = run(job)
    c = Company.objects.get()
    assert (c.name, c.country, c.source) == ("宁波恒达贸易有限公司", "CN", "trade_show")
    assert Contact.objects.get(company=c).name_local == "张伟"


# --- chunks, resume, progress -----------------------------------------------------------------


def _many(n: int) -> str:
    lines = [f"Company {i:03d} GmbH,DE,Berlin,www.company{i:03d}.de" for i in range(n)]
    return "Company Name,Country,City,Website\n" + "\n".join(lines) + "\n"


def test_chunks_resume_after_a_crash_without_duplicates(alice, settings):
    settings.TRADECRM_IMPORT_CHUNK_ROWS = 4
    job = make_job(alice, _many(10) + "Company 003 GmbH,DE,Berlin,www.company003.de\n")
    job = run(job, stop_after=2)  # the "crash": after two committed chunks
    assert job.status == JobStatus.FAILED and job.rows_done == 8
    assert Company.objects.count() == 8 and ImportChunk.objects.filter(job=job).count() == 2
    assert services.import_job_progress(job)["percent"] == 72
    job = run(job)  # started again: goes on after row 9
    assert job.status == JobStatus.DONE
    assert counts(job) == {
        "rows_read": 11,
        "created": 10,
        "updated": 0,
        "merged": 1,
        "rejected": 0,
        "unchanged": 1,
    }
    assert Company.objects.count() == 10
    assert sorted(Company.objects.values_list("name", flat=True)) == [
        f"Company {i:03d} GmbH" for i in range(10)
    ]
    chunks = list(ImportChunk.objects.filter(job=job).order_by("seq").values_list("first_row", "last_row"))
    assert chunks == [(2, 5), (6, 9), (10, 12)]
    ids = sorted(Company.objects.values_list("id", flat=True))
    ranges = [r for c in ImportChunk.objects.filter(job=job) for r in c.created_ranges["customers.company"]]
    assert sorted(i for a, b in ranges for i in range(a, b + 1)) == ids
    assert services.import_job_progress(job)["percent"] == 100


def test_stalled_running_job_is_requeued(alice, monkeypatch):
    from django.utils import timezone

    from tradecrm.imports import tasks

    job = make_job(alice, _many(3))
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING,
                                               updated_at=timezone.now() - timezone.timedelta(minutes=5))  # fmt: skip
    queued = []
    monkeypatch.setattr(tasks, "run_import", lambda job_id: queued.append(job_id))
    assert services.requeue_stalled() == [job.pk] and queued == [job.pk]
    assert services.import_job_run(job.pk, use_process=False).status == JobStatus.DONE
    assert Company.objects.count() == 3


# --- undo ---------------------------------------------------------------------------------------


def test_undo_deletes_created_records_and_refuses_when_worked_on(alice):
    from tradecrm.interactions.models import Interaction

    job = run(make_job(alice, HEADER + ROWS))
    acme = Company.objects.get(name="Acme Imports LLC")
    Interaction.objects.create(
        company=acme, type="note", subject="called", occurred_at=acme.created_at, owner=alice
    )

    with pytest.raises(ValidationError) as exc:
        services.import_undo(actor=alice, job=job)
    assert "interaction" in exc.value.messages[0]
    Interaction.objects.all().delete()
    result = services.import_undo(actor=alice, job=job)
    assert result["deleted"] == 2 + 3  # companies + contacts
    assert not Company.objects.exists() and not Contact.objects.exists()
    assert not CompanyKey.objects.exists() and not ContactKey.objects.exists()
    with pytest.raises(ValidationError):
        services.import_undo(actor=alice, job=job)


# --- rejected rows file -------------------------------------------------------------------------


def test_rejected_rows_file_has_the_original_columns_and_reasons(alice):
    text = HEADER + ROWS + "\"=cmd|' /C calc'!A0\",DE,,,,,,,,\n"
    job = run(make_job(alice, text))
    path = services.rejected_rows_file(job)
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*HEADER.strip().split(","), "Reason"]
    assert rows[1][:3] == ["", "Germany", "Berlin"] and "The company name is required." in rows[1][-1]
    assert rows[2][0] == "'=cmd|' /C calc'!A0"  # written as text, not as a formula
    assert len(rows) == 3


# --- other entities -----------------------------------------------------------------------------


def test_contacts_find_or_create_their_company(alice, make_company):
    acme = make_company(name="Acme Imports LLC", country="US", website="acme-imports.com")
    text = (
        "First Name,Last Name,Email,Company,Country\n"
        "Jane,Doe,jane@acme-imports.com,Acme Imports,US\n"
        "Hans,Meier,hans@meier-handel.de,Meier Handel GmbH,DE\n"
        "Jane,Doe,jane@acme-imports.com,Acme Imports,US\n"
        "Nobody,,,,\n"
    )
    job = run(make_job(alice, text, entity="contacts",
                       mapping={0: "first_name", 1: "last_name", 2: "emails", 3: "company_name", 4: "company_country"}))  # fmt: skip
    assert counts(job) == {
        "rows_read": 4,
        "created": 2,
        "updated": 0,
        "merged": 1,
        "rejected": 1,
        "unchanged": 1,
    }
    assert Contact.objects.get(first_name="Jane").company == acme
    meier = Company.objects.get(name="Meier Handel GmbH")
    assert meier.owner == alice and meier.country == "DE"
    assert Contact.objects.get(first_name="Hans").company == meier


def test_customs_records_link_buyers_and_skip_known_records(alice, make_company):
    from tradecrm.customs.models import CustomsRecord

    acme = make_company(name="Acme Imports LLC", country="US")
    text = (
        "Consignee,Consignee Country,Shipper,HS Code,Product,Weight (kg),Value (USD),Arrival Date,B/L\n"
        "ACME IMPORTS LLC,US,Ningbo Hengda,940540,LED lights,1200,15000,2024-03-05,BL1\n"
        "Expeditors International,US,Ningbo Hengda,940540,LED lights,100,900,2024-03-06,BL2\n"
        "Pacific Buyers Inc,US,Ningbo Hengda,940540,LED lights,50,400,2024-03-07,BL3\n"
        "ACME IMPORTS LLC,US,Ningbo Hengda,940540,LED lights,1200,15000,2024-03-05,BL1\n"
    )
    job = make_job(alice, text, entity="customs", source="customs")
    job = run(job)
    assert job.status == JobStatus.DONE, job.error
    assert counts(job) == {
        "rows_read": 4,
        "created": 3,
        "updated": 0,
        "merged": 1,
        "rejected": 0,
        "unchanged": 1,
    }
    assert CustomsRecord.objects.filter(company=acme).count() == 1
    assert CustomsRecord.objects.get(bl_number="BL2").company is None  # a forwarder is not a buyer
    pacific = Company.objects.get(name="Pacific Buyers Inc")
    assert pacific.source == "customs" and CustomsRecord.objects.get(bl_number="BL3").company == pacific
    again = run(make_job(alice, text, entity="customs", source="customs"))
    assert counts(again)["created"] == 0 and counts(again)["unchanged"] == 4
    services.import_undo(actor=alice, job=job)
    assert (
        not CustomsRecord.objects.exists() and not Company.objects.filter(name="Pacific Buyers Inc").exists()
    )


def test_products_by_sku(carol):
    from tradecrm.catalog.models import Product

    Product.objects.create(sku="LED-1", name_en="LED panel")
    text = "SKU,Name (English),HS code,Unit\nled-1,LED panel 60x60,9405.40,pcs\nLED-2,LED bulb,940540,pcs\nLED-3,,,\n"
    job = run(make_job(carol, text, entity="products"))
    assert counts(job) == {
        "rows_read": 3,
        "created": 1,
        "updated": 1,
        "merged": 0,
        "rejected": 1,
        "unchanged": 0,
    }
    assert Product.objects.get(sku="LED-1").name_en == "LED panel 60x60"
    assert Product.objects.get(sku="LED-2").hs_code == "940540"
    services.import_undo(actor=carol, job=job)
    assert list(Product.objects.values_list("sku", "name_en")) == [("LED-1", "LED panel")]


def test_sales_may_not_import_products(alice):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        make_job(alice, "SKU,Name\nA,B\n", entity="products")


def test_vcard_becomes_contacts(alice):
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nORG:Acme Imports LLC\r\n"
        "EMAIL;TYPE=WORK:jane@acme-imports.com\r\nTEL;TYPE=CELL:+1 312 555 0100\r\nEND:VCARD\r\n"
    )
    job = services.import_job_create(actor=alice, upload=SimpleUploadedFile("cards.vcf", text.encode()),
                                     filename="cards.vcf", entity="contacts", source="vcard")  # fmt: skip
    job = run(job)
    assert job.status == JobStatus.DONE, job.error
    jane = Contact.objects.get()
    assert (jane.first_name, jane.last_name, jane.emails, jane.phones) == (
        "Jane", "Doe", ["jane@acme-imports.com"], ["+13125550100"])  # fmt: skip
    assert jane.company.name == "Acme Imports LLC"


# --- the cleaner's shortcuts agree with the rules they stand for -------------------------------


def test_cleaner_shortcuts_match_the_full_rules():
    from tradecrm.core.emails import normalize_email
    from tradecrm.dedup.keys import TOKEN, company_keys, company_match_keys
    from tradecrm.imports import rows as R

    for e in ("Info@Acme.DE", "a.b-c+d@sub.example.co.uk", "x_y@host.io"):
        assert R.clean_email(e) == normalize_email(e)
    values = {"name": "Ningbo Hengda Trading Co., Ltd.", "country": "CN", "website": "https://www.hengda.cn",
              "email": "sales@hengda.cn", "phones": ["+8657487654321"], "email_domains": ["hengda.cn"]}  # fmt: skip
    assert [k for kind, k in company_keys(values) if kind != TOKEN] == [
        k for _kind, k in company_match_keys(values)
    ]
    assert R.split_person("Anna Maria Schmidt") == ("Anna Maria", "Schmidt", "")
    assert R.split_person("张伟") == ("", "", "张伟")
    assert (
        R.parse_country("阿联酋") == "AE"
        and R.parse_country("usa") == "US"
        and R.parse_country("DEU") == "DE"
    )


def test_bigger_file_in_a_worker_process_is_picked_by_size(alice, monkeypatch):
    monkeypatch.setattr(engine, "PROCESS_MIN_ROWS", 10**9)
    job = make_job(alice, _many(3))
    services.import_job_start(actor=alice, job=job, background=False)
    job = services.import_job_run(job.pk)  # small: cleaned here
    assert job.status == JobStatus.DONE and job.created == 3


def test_worker_process_merges_like_the_inline_run(alice, settings):
    """Rows cleaned in the worker process arrive as prepared columns; merging into them later
    (same chunk or next) rebuilds their values, with the same result as cleaning here."""
    settings.TRADECRM_IMPORT_CHUNK_ROWS = 2
    text = HEADER + ROWS + "Acme Imports LLC,US,,,,,Ann Lee,ann@acme-imports.com,,\n"
    job = make_job(alice, text)
    services.import_job_start(actor=alice, job=job, background=False)
    job = services.import_job_run(job.pk, use_process=True)
    assert counts(job) == {
        "rows_read": 5,
        "created": 2,
        "updated": 0,
        "merged": 2,
        "rejected": 1,
        "unchanged": 0,
    }
    acme = Company.objects.get(name="Acme Imports LLC")
    assert acme.notes == "met again" and acme.phones == ["+13125550100"]
    names = sorted(Contact.objects.filter(company=acme).values_list("first_name", "is_primary"))
    assert names == [("Ann", False), ("John", True), ("Mary", False)]
    assert "mary@acme-imports.com" in acme.search_text and "ann@acme-imports.com" in acme.search_text
    assert ImportRejection.objects.get(job=job).cells[:3] == ["", "Germany", "Berlin"]


def test_prepared_columns_stand_for_the_values():
    from tradecrm.dedup.keys import contact_keys, key_hash
    from tradecrm.imports import rows as R

    cfg = R.CleanerConfig(entity="companies", source="generic", headers=HEADER.strip().split(","),
                          mapping={0: "name", 1: "country", 2: "city", 3: "website", 4: "email", 5: "phones",
                                   6: "contact_name", 7: "contact_email", 8: "contact_mobile", 9: "notes"})  # fmt: skip
    row = R.make_cleaner(cfg)(2, next(csv.reader([ROWS.splitlines()[0]])))
    assert not row.reasons
    values, contact = R.values_from_prep(row.prep)
    assert values == {k: v for k, v in row.values.items() if v not in ("", None, [])} | {"status": "lead"}
    assert contact == row.contact
    assert R.unpack(R.pack(row)).prep == row.prep and R.cells_of(R.unpack(R.pack(row))) == row.cells
    # the contact's keys as the writer finishes them == dedup.keys.contact_keys
    _mid, _tail, ckeys = row.prep[2]
    made = [(kind, key if text is None else key_hash(kind, f"7{text}")) for kind, key, text in ckeys]
    assert made == contact_keys({**contact, "company_id": 7})


def test_day_and_month_order_is_read_from_the_column(alice):
    text = "Company Name,Country,Since\nA,DE,03/05/2020\nB,DE,31/01/2021\n"
    run(make_job(alice, text, mapping={0: "name", 1: "country", 2: "cooperation_since"}))
    assert str(Company.objects.get(name="A").cooperation_since) == "2020-05-03"
    text = "Company Name,Country,Since\nC,US,03/05/2020\nD,US,12/31/2021\n"
    run(make_job(alice, text, mapping={0: "name", 1: "country", 2: "cooperation_since"}))
    assert str(Company.objects.get(name="C").cooperation_since) == "2020-03-05"


def test_time_zone_is_the_one_the_form_would_infer(alice):
    from tradecrm.core import geo

    run(make_job(alice, "Company Name,Country,Tel\nMaple Imports,CA,+1 604 410 1030\n",
                 mapping={0: "name", 1: "country", 2: "phones"}))  # fmt: skip
    c = Company.objects.get()
    assert c.timezone == geo.infer_timezone("CA", "", "+16044101030") == "America/Vancouver"


def test_undo_of_an_added_contact_refreshes_the_company_search_text(alice, make_company):
    acme = make_company(name="Acme Imports LLC", country="US", city="Chicago")
    job = run(
        make_job(alice, HEADER + "Acme Imports LLC,US,Chicago,,,,Zbigniew Kowalski,zk@acme.example,,\n")
    )
    acme.refresh_from_db()
    assert "zbigniew" in acme.search_text
    services.import_undo(actor=alice, job=job)
    acme.refresh_from_db()
    assert "zbigniew" not in acme.search_text and not Contact.objects.filter(company=acme).exists()


def test_a_run_taken_over_by_another_process_writes_nothing_more(alice, settings, monkeypatch):
    settings.TRADECRM_IMPORT_CHUNK_ROWS = 2
    job = make_job(alice, _many(6))
    services.import_job_start(actor=alice, job=job, background=False)
    calls = []

    def progress(j):
        calls.append(j.rows_done)
        if len(calls) == 1:  # the watchdog gave the run to someone else meanwhile
            ImportJob.objects.filter(pk=j.pk).update(runner="someone-else")

    job = services.import_job_run(job.pk, use_process=False, progress=progress)
    assert job.status == JobStatus.RUNNING and job.runner == "someone-else" and calls == [2]
    assert Company.objects.count() == 2 and ImportChunk.objects.filter(job=job).count() == 1
