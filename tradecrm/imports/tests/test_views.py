"""The import screens: upload → columns → dry run → run → rejected rows → undo, the saved
mappings, the early refusal of a too-big upload, and 404 for dave on every page that names a
job or a saved mapping of alice's."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tradecrm.customers.models import Company
from tradecrm.imports import services, tasks
from tradecrm.imports.models import ImportJob, MappingTemplate

pytestmark = pytest.mark.django_db

# A trade-show lead list as a Chinese exhibitor's assistant types it: Chinese headers, one row
# without a company name (rejected), one column (展位号, the booth) that no header alias knows.
LEADS = (
    "公司名称,国家,邮箱,电话,展会,展位号\n"
    "Lakeside Home Goods LLC,US,jason@lakesidehomegoods.com,+1 312 555 0123,Canton Fair 2025,11.2 C08\n"
    "Nordlicht Haushaltswaren GmbH,DE,info@nordlicht-hw.de,+49 30 1234567,Canton Fair 2025,11.2 C08\n"
    ",FR,contact@inconnu.fr,,Canton Fair 2025,11.2 C08\n"
)


def _upload(name="leads.csv", text=LEADS, encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.fixture
def job(alice):
    return services.import_job_create(
        actor=alice, upload=_upload(), filename="leads.csv", entity="companies", source="trade_show"
    )


def _mapping_post(job, **extra) -> dict:
    """The mapping form as the page fills it in: every column's preselected target kept."""
    job.refresh_from_db()
    data = {"version": job.version, "on_duplicate": "merge", "default_country": "", "save_as": ""}
    for i in range(len(job.headers)):
        data[f"col_{i}"] = job.mapping.get(str(i), "")
    data.update(extra)
    return data


def _run(job):
    """What the worker does after the start: the test calls the task itself."""
    tasks.run_import.call_local(job.pk)
    job.refresh_from_db()
    return job


# --- pages need a signed-in user ----------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    for name in ("imports:list", "imports:new", "imports:mappings"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- upload ---------------------------------------------------------------------------------------


def test_new_page_lists_what_and_sources(client_for, alice):
    response = client_for(alice).get(reverse("imports:new"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="companies"' in body and 'value="trade_show"' in body
    # the catalogue is written by managers: a sales rep is not offered products
    assert 'value="products"' not in body
    assert 'data-max-bytes="' in body


def test_choosing_contacts_reloads_the_sources(client_for, alice):
    response = client_for(alice).get(
        reverse("imports:new"), {"partial": "choices", "entity": "contacts"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="google_contacts"' in body and "<html" not in body
    assert 'value="customs"' not in body  # not a source of contacts


def test_upload_creates_the_job_and_shows_its_columns(client_for, alice):
    c = client_for(alice)
    response = c.post(
        reverse("imports:new"), {"file": _upload(), "entity": "companies", "source": "trade_show"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert job.created_by == alice and job.filename == "leads.csv"
    page = c.get(response["Location"]).content.decode()
    assert "公司名称" in page and "Nordlicht Haushaltswaren GmbH" in page and "info@nordlicht-hw.de" in page
    # 公司名称 was recognised: its select comes with the company name chosen
    assert '<option value="name" selected>' in page
    # no country is assumed for rows without one
    assert re.search(r'<select name="default_country"[^>]*><option value="">', page)


def test_upload_without_a_file_says_so(client_for, alice):
    response = client_for(alice).post(reverse("imports:new"), {"entity": "companies", "source": "generic"})
    assert response.status_code == 422
    assert "Choose the file to import." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_binary_file_is_refused_with_the_reason(client_for, alice):
    exe = SimpleUploadedFile("leads.csv", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 8)
    response = client_for(alice).post(reverse("imports:new"), {"file": exe, "entity": "companies",
                                                               "source": "generic"})  # fmt: skip
    assert response.status_code == 422
    assert 'data-testid="error-file"' in response.content.decode()
    assert "leads.csv" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_too_big_upload_is_refused_before_it_is_read(client_for, alice, settings):
    settings.TRADECRM_IMPORT_MAX_BYTES = 100
    response = client_for(alice).post(reverse("imports:new"), {"file": _upload(), "entity": "companies",
                                                               "source": "generic"})  # fmt: skip
    assert response.status_code == 413
    assert "The file is larger than 100 bytes" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_still_checks_the_csrf_token(alice):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(alice)
    response = c.post(reverse("imports:new"), {"file": _upload(), "entity": "companies", "source": "generic"})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


# --- columns, dry run, run ------------------------------------------------------------------------


def test_changed_column_and_dry_run_report(client_for, alice, job):
    c = client_for(alice)
    booth = job.headers.index("展位号")
    assert str(booth) not in job.mapping  # not recognised: left out until the user maps it
    response = c.post(reverse("imports:mapping", args=[job.pk]),
                      _mapping_post(job, **{f"col_{booth}": "notes"}))  # fmt: skip
    assert response.status_code == 302 and response["Location"] == reverse("imports:report", args=[job.pk])
    job.refresh_from_db()
    assert job.mapping[str(booth)] == "notes"
    assert job.options["owner_id"] == alice.pk  # a sales rep owns what she imports
    page = c.get(response["Location"]).content.decode()
    assert 'data-testid="count-created">2<' in page and 'data-testid="count-rejected">1<' in page
    assert 'data-testid="report-row-4"' in page  # the row without a name, by its row number
    assert not Company.objects.exists()  # a dry run saves nothing
    rejected = c.get(response["Location"], {"show": "rejected"}).content.decode()
    assert 'data-testid="report-row-4"' in rejected and 'data-testid="report-row-2"' not in rejected


def _workbook() -> bytes:
    """Two sheets, as a colleague sends them: last year's exhibitors first, this year's leads second."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    for name, company in (("Exhibitors 2024", "Hengda Trading"), ("Leads 2025", "Lakeside Home Goods LLC")):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["公司名称", "国家"])
        sheet.write_row(1, 0, [company, "US"])
    book.close()
    return out.getvalue()


def test_another_sheet_reads_the_columns_again(client_for, alice):
    upload = SimpleUploadedFile("fair.xlsx", _workbook())
    job = services.import_job_create(actor=alice, upload=upload, filename="fair.xlsx", entity="companies",
                                     source="trade_show")  # fmt: skip
    assert job.sheet == "Exhibitors 2024"
    c = client_for(alice)
    page = c.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert '<option value="Leads 2025">' in page and "Hengda Trading" in page
    response = c.post(reverse("imports:mapping", args=[job.pk]), _mapping_post(job, sheet="Leads 2025"))
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    job.refresh_from_db()
    assert job.sheet == "Leads 2025" and job.report == {}
    page = c.get(response["Location"]).content.decode()
    assert "Lakeside Home Goods LLC" in page and "Hengda Trading" not in page
    assert "The columns were read again" in page


def test_a_header_row_without_column_names_is_refused(client_for, alice, job):
    # row 2 holds a company, not column names: nothing maps to the company name
    response = client_for(alice).post(
        reverse("imports:mapping", args=[job.pk]), _mapping_post(job, header_row=2)
    )
    assert response.status_code == 422
    assert "No column goes to the company name" in response.content.decode()
    job.refresh_from_db()
    assert job.header_row == 1 and job.headers[0] == "公司名称"


def test_a_mapping_without_the_name_is_refused(client_for, alice, job):
    name_column = job.headers.index("公司名称")
    response = client_for(alice).post(reverse("imports:mapping", args=[job.pk]),
                                      _mapping_post(job, **{f"col_{name_column}": ""}))  # fmt: skip
    assert response.status_code == 422
    assert 'data-testid="mapping-errors"' in response.content.decode()
    job.refresh_from_db()
    assert job.report == {}


def test_save_as_keeps_the_mapping_for_the_next_file(client_for, alice, job):
    c = client_for(alice)
    c.post(reverse("imports:mapping", args=[job.pk]), _mapping_post(job, save_as="Canton Fair leads"))
    saved = MappingTemplate.objects.get()
    assert saved.name == "Canton Fair leads" and saved.entity == "companies" and saved.source == "trade_show"
    page = c.get(reverse("imports:mappings")).content.decode()
    assert "Canton Fair leads" in page
    offered = c.get(reverse("imports:new"), {"partial": "choices", "entity": "companies", "source": "trade_show"},
                    HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert '<option value="Canton Fair leads"' in offered


def test_run_progress_rejected_file_and_undo(client_for, alice, job):
    c = client_for(alice)
    c.post(reverse("imports:mapping", args=[job.pk]), _mapping_post(job))
    response = c.post(reverse("imports:start", args=[job.pk]))
    assert response["Location"] == reverse("imports:progress", args=[job.pk])
    # queued: the progress block asks for itself every second
    partial = c.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "<html" not in partial
    job = _run(job)
    assert job.status == "done"
    partial = c.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial  # finished: the polling stops
    assert 'data-status="done"' in partial and 'data-testid="count-created">2<' in partial
    assert 'data-testid="download-rejected"' in partial and 'data-testid="undo-import"' in partial
    assert Company.objects.count() == 2

    download = c.get(reverse("imports:rejected", args=[job.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["公司名称", "国家", "邮箱", "电话", "展会", "展位号", "Reason"] and len(rows) == 2
    assert rows[1][:6] == ["", "FR", "contact@inconnu.fr", "", "Canton Fair 2025", "11.2 C08"]
    assert rows[1][6]  # the reason, beside the original cells

    confirm = c.get(reverse("imports:undo", args=[job.pk]))
    assert confirm.status_code == 200 and 'data-testid="confirm-undo"' in confirm.content.decode()
    c.post(reverse("imports:undo", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "undone" and not Company.objects.exists()


def test_list_polls_while_a_job_runs(client_for, alice, job):
    c = client_for(alice)
    c.post(reverse("imports:mapping", args=[job.pk]), _mapping_post(job))
    c.post(reverse("imports:start", args=[job.pk]))
    partial = c.get(reverse("imports:list"), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "<html" not in partial and "Queued" in partial
    _run(job)
    partial = c.get(reverse("imports:list"), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial and "Done" in partial


def test_list_shows_own_jobs_only(client_for, alice, dave, job):
    assert "leads.csv" in client_for(alice).get(reverse("imports:list")).content.decode()
    assert "leads.csv" not in client_for(dave).get(reverse("imports:list")).content.decode()


def test_manager_above_the_team_sees_the_job(client_for, carol, job):
    assert client_for(carol).get(reverse("imports:mapping", args=[job.pk])).status_code == 200


# --- authorisation: dave (other team) gets 404 on everything of alice's ----------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("imports:mapping", "get"),
        ("imports:mapping", "post"),
        ("imports:report", "get"),
        ("imports:start", "post"),
        ("imports:progress", "get"),
        ("imports:rejected", "get"),
        ("imports:undo", "get"),
        ("imports:undo", "post"),
    ],
)
def test_dave_gets_404_on_alices_job(client_for, dave, job, name, method):
    response = getattr(client_for(dave), method)(reverse(name, args=[job.pk]))
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == "uploaded"


def test_dave_gets_404_on_alices_saved_mapping(client_for, alice, dave, job):
    template = services.mapping_template_save(actor=alice, entity="companies", source="trade_show",
                                              name="East leads", mapping_by_header={"公司名称": "name"})  # fmt: skip
    c = client_for(dave)
    assert c.get(reverse("imports:mapping_delete", args=[template.pk])).status_code == 404
    assert c.post(reverse("imports:mapping_delete", args=[template.pk])).status_code == 404
    assert "East leads" not in c.get(reverse("imports:mappings")).content.decode()
    assert MappingTemplate.objects.filter(pk=template.pk).exists()
    client_for(alice).post(reverse("imports:mapping_delete", args=[template.pk]))
    assert not MappingTemplate.objects.filter(pk=template.pk).exists()
