"""Importing a trade-show lead list in a real browser (`make test-browser`): upload a CSV with
Chinese headers, map the one column the automatic mapping left out (展位号, the booth → notes),
dry run (row numbers and reasons), start, watch the progress bar poll its way from "queued" to done, download
the rejected rows.

The background worker does not run under the live server: starting the import only records the
job id here, and the test runs the job itself once the page has shown the queued state and polled
at least once. While it runs, the page's polls are held back (a Playwright route answered only
afterwards), so the live server and the test never use the shared in-memory database at the same
time."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from guide_shots import shot

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEADS = (
    "公司名称,国家,邮箱,电话,展会,展位号\n"
    "Lakeside Home Goods LLC,US,jason@lakesidehomegoods.com,+1 312 555 0123,Canton Fair 2025,11.2 C08\n"
    "Nordlicht Haushaltswaren GmbH,DE,info@nordlicht-hw.de,+49 30 1234567,Canton Fair 2025,11.2 C08\n"
    ",FR,contact@inconnu.fr,,Canton Fair 2025,11.2 C08\n"
)


def _shot(page, name: str, guide: str | None = None) -> None:
    shot(page, name, guide=guide)


def test_import_leads_with_chinese_headers(page, live_server, alice, monkeypatch):
    from tradecrm.customers.models import Company
    from tradecrm.imports import tasks
    from tradecrm.imports.models import ImportJob

    queued: list[int] = []
    run_import = tasks.run_import
    monkeypatch.setattr(tasks, "run_import", queued.append)  # the worker's queue, as the test sees it

    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")

    # 1. upload: what the file holds and where it comes from
    page.goto(f"{base}/imports/new/")
    page.select_option("[data-testid=import-source]", "trade_show")
    page.set_input_files(
        "[data-testid=import-file]",
        files=[{"name": "广交会名单.csv", "mimeType": "text/csv", "buffer": LEADS.encode("utf-8")}],
    )
    _shot(page, "import-upload.png")
    page.click("[data-testid=import-upload-button]")
    page.wait_for_url(re.compile(r"/imports/\d+/columns/$"))
    job = ImportJob.objects.get()
    assert (job.entity, job.source, job.filename) == ("companies", "trade_show", "广交会名单.csv")

    # 2. the columns: recognised from their Chinese names, with their first values
    columns = page.locator("[data-testid=mapping-columns] tbody tr")
    assert columns.count() == 6
    assert columns.nth(0).locator("[data-testid=column-header]").inner_text() == "公司名称"
    assert (
        "Nordlicht Haushaltswaren GmbH" in columns.nth(0).locator("[data-testid=column-samples]").inner_text()
    )
    assert page.input_value("[data-testid=map-0]") == "name"
    assert page.input_value("[data-testid=map-2]") in ("email", "contact_email")  # 邮箱
    assert (
        page.input_value("[data-testid=map-4]") == "source_detail"
    )  # 展会: which show, the source's own alias
    booth = job.headers.index("展位号")
    assert page.input_value(f"[data-testid=map-{booth}]") == ""  # nothing answers to "展位号" (booth)
    page.select_option(f"[data-testid=map-{booth}]", "notes")
    _shot(page, "import-columns.png", guide="import-columns")
    page.click("[data-testid=dry-run]")

    # 3. the dry run: what would happen, row by row, with the file's row numbers
    page.wait_for_url(re.compile(r"/imports/\d+/dry-run/$"))
    assert page.inner_text("[data-testid=count-rows_read]") == "3"
    assert page.inner_text("[data-testid=count-created]") == "2"
    assert page.inner_text("[data-testid=count-rejected]") == "1"
    rejected_row = page.locator("[data-testid=report-row-4]")
    assert "rejected" in rejected_row.inner_text()
    assert not Company.objects.exists()
    _shot(page, "import-dry-run.png", guide="import-dry-run")

    # 4. the run: queued, the bar polls; the worker runs; the bar reaches done
    page.click("[data-testid=start-import]")
    page.wait_for_url(f"{base}/imports/{job.pk}/")
    progress = page.locator("[data-testid=import-progress]")
    assert progress.get_attribute("data-status") == "queued"
    assert queued == [job.pk]
    held: list = []
    page.route(re.compile(rf"/imports/{job.pk}/$"), lambda route: held.append(route) or route.continue_())
    with page.expect_response(re.compile(rf"/imports/{job.pk}/$")):
        pass  # one poll answered "queued": the page is polling
    run_import.call_local(job.pk)  # what the worker does, while the page's polls wait in the route
    page.locator("[data-testid=import-progress][data-status=done]").wait_for()
    assert held  # the polls went through the route, i.e. the page asked again by itself
    bar = page.locator("[data-testid=progress-bar]")
    assert "width: 100%" in bar.get_attribute("style")
    assert page.inner_text("[data-testid=percent]").strip() == "100 %"
    assert page.inner_text("[data-testid=count-created]") == "2"
    assert set(Company.objects.values_list("source_detail", "notes")) == {("Canton Fair 2025", "11.2 C08")}
    _shot(page, "import-done.png")

    # 5. the rejected rows, in the file's own columns plus the reason
    with page.expect_download() as download:
        page.click("[data-testid=download-rejected]")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["公司名称", "国家", "邮箱", "电话", "展会", "展位号", "Reason"]
    assert rows[1][:6] == ["", "FR", "contact@inconnu.fr", "", "Canton Fair 2025", "11.2 C08"] and rows[1][6]

    # 6. the list of imports: this one, done, with its counts
    page.goto(f"{base}/imports/")
    row = page.locator(f"[data-testid=job-{job.pk}]")
    assert "广交会名单.csv" in row.inner_text() and "Done" in row.inner_text()
    _shot(page, "import-list.png")
    assert page.js_errors == []


def test_upload_page_checks_the_file_before_sending_it(page, live_server, alice, settings):
    from tradecrm.imports.models import ImportJob

    settings.TRADECRM_IMPORT_MAX_BYTES = 100
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")
    page.goto(f"{base}/imports/new/")

    # a business card: the page switches to contacts, and the sources to those of contacts
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jason Miller\r\nEND:VCARD\r\n"
    page.set_input_files("[data-testid=import-file]", files=[
        {"name": "jason.vcf", "mimeType": "text/vcard", "buffer": card.encode()},
    ])  # fmt: skip
    page.locator("[data-testid=import-source] option[value=vcard]").wait_for(state="attached")
    assert page.input_value("[data-testid=import-entity]") == "contacts"

    # over the limit: said at once, and nothing is sent
    page.set_input_files("[data-testid=import-file]", files=[
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": LEADS.encode()},
    ])  # fmt: skip
    error = page.locator("[data-testid=error-file]")
    assert "larger than 100 bytes" in error.inner_text()
    page.click("[data-testid=import-upload-button]")
    page.wait_for_timeout(300)  # time for a navigation, had one started
    assert page.url == f"{base}/imports/new/"
    assert not ImportJob.objects.exists()
    assert page.js_errors == []
