"""`tradecrm import …` and `tradecrm import_undo …`: the JSON contract other tools script against."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tradecrm.customers.models import Company
from tradecrm.imports.models import ImportJob, JobStatus

pytestmark = pytest.mark.django_db
CSV = "Company Name,Country,City\nAcme Imports LLC,US,Chicago\nMeier Handel GmbH,DE,Köln\n,FR,Paris\n"


@pytest.fixture
def leads(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def cli(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_prints_exactly_one_object(leads, alice):
    out, err = cli(leads, "--entity", "companies", "--source", "generic", "--json", "--as", "alice")
    data = json.loads(out)  # one object, nothing else on stdout
    assert {k: data[k] for k in ("rows_read", "created", "updated", "merged", "rejected")} == {
        "rows_read": 3, "created": 2, "updated": 0, "merged": 0, "rejected": 1}  # fmt: skip
    assert data["rejected_file"].endswith("rejected.csv") and data["status"] == "done"
    assert err == ""  # no progress bar with --json
    job = ImportJob.objects.get(pk=data["job_id"])
    assert job.created_by == alice and Company.objects.get(name="Acme Imports LLC").owner == alice


def test_progress_bar_and_summary(leads, alice):
    out, err = cli(leads, "--entity", "companies", "--as", "alice")
    assert "3/3 rows" in err or "3 rows" in err
    assert "2 created" in out and "1 rejected" in out


def test_dry_run_writes_nothing(leads):
    out, _err = cli(leads, "--dry-run", "--json")
    data = json.loads(out)
    assert data["created"] == 2 and data["dry_run"] is True and data["rejected_file"] is None
    assert not Company.objects.exists()


def test_owner_and_system_import(leads, alice):
    data = json.loads(cli(leads, "--json", "--owner", "alice")[0])
    assert data["created"] == 2 and set(Company.objects.values_list("owner__username", flat=True)) == {
        "alice"
    }


def test_errors_are_command_errors(tmp_path, alice):
    with pytest.raises(CommandError, match="No file"):
        cli(tmp_path / "missing.csv")
    with pytest.raises(CommandError, match="No active user"):
        cli(tmp_path / "missing.csv", "--as", "nobody")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        cli(empty)
    with pytest.raises(CommandError, match="nothing to resume|No import"):
        cli("--resume", "999")


def test_resume_a_stopped_job(leads, alice, settings):
    from tradecrm.imports import services

    settings.TRADECRM_IMPORT_CHUNK_ROWS = 1
    data = json.loads(cli(leads, "--dry-run", "--json", "--as", "alice")[0])
    job = ImportJob.objects.get(pk=data["job_id"])
    services.import_job_start(actor=alice, job=job, background=False)
    services.import_job_run(job.pk, use_process=False, stop_after=1)
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.FAILED
    data = json.loads(cli("--resume", job.pk, "--json")[0])
    assert data["status"] == "done" and data["created"] == 2 and data["rows_read"] == 3
    assert Company.objects.count() == 2


def test_import_undo(leads, alice):
    data = json.loads(cli(leads, "--json", "--as", "alice")[0])
    out = io.StringIO()
    call_command("import_undo", str(data["job_id"]), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"job_id": data["job_id"], "deleted": 2, "restored": 0, "kept": []}
    assert not Company.objects.exists()
    with pytest.raises(CommandError, match="can be undone"):
        call_command("import_undo", str(data["job_id"]), stdout=io.StringIO())


def test_import_undo_as_a_user_who_cannot_see_the_job(leads, alice, dave):
    data = json.loads(cli(leads, "--json", "--as", "alice")[0])
    with pytest.raises(CommandError, match="No import"):
        call_command("import_undo", str(data["job_id"]), "--as", "dave", stdout=io.StringIO())
