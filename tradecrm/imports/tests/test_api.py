"""/api/v1/imports and /api/v1/import-mappings: the whole flow, and 404 for dave on every job."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.customers.models import Company
from tradecrm.imports import services
from tradecrm.imports.api import JobOut, ProgressOut, ReportOut
from tradecrm.imports.models import ImportJob, JobStatus, MappingTemplate

pytestmark = pytest.mark.django_db
JSON = "application/json"
CSV = "Company Name,Country,City,E-mail\nAcme Imports LLC,US,Chicago,info@acme.example\n,DE,Berlin,x@\n"


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def upload(client, text=CSV, **extra):
    f = SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")
    return client.post("/api/v1/imports", {"file": f, "entity": "companies", "source": "generic", **extra})


def test_flow_upload_configure_dry_run_start_progress_rejected_undo(api_for, alice, monkeypatch):
    api = api_for(alice)
    r = upload(api)
    assert r.status_code == 201, r.content
    job = r.json()
    JobOut.model_validate(job)
    assert job["headers"] == ["Company Name", "Country", "City", "E-mail"]
    assert job["mapping"] == {"0": "name", "1": "country", "2": "city", "3": "email"}
    assert r["Location"] == f"/api/v1/imports/{job['id']}"
    base = f"/api/v1/imports/{job['id']}"
    preview = api.get(f"{base}/preview?rows=1").json()
    assert preview["samples"] == [["Acme Imports LLC", "US", "Chicago", "info@acme.example"]]
    r = api.post(f"{base}/configure", {"version": job["version"], "mapping": {"0": "name", "1": "country", "3": "email"},
                                       "options": {"on_duplicate": "skip", "default_country": "us"},
                                       "save_as": "Fair list"}, content_type=JSON)  # fmt: skip
    assert r.status_code == 200, r.content
    job = r.json()
    assert job["options"]["default_country"] == "US" and job["mapping"] == {
        "0": "name",
        "1": "country",
        "3": "email",
    }
    assert MappingTemplate.objects.filter(name="Fair list").exists()
    stale = api.post(f"{base}/configure", {"version": 1, "mapping": {"0": "name"}}, content_type=JSON)
    assert stale.status_code == 409
    report = api.post(f"{base}/dry-run").json()
    ReportOut.model_validate(report)
    assert (report["created"], report["rejected"]) == (1, 1)
    queued = []
    from tradecrm.imports import tasks

    monkeypatch.setattr(tasks, "run_import", lambda job_id: queued.append(job_id))
    r = api.post(f"{base}/start")
    assert r.status_code == 202 and r.json()["status"] == "queued"
    services.import_job_run(job["id"], use_process=False)
    p = api.get(f"{base}/progress").json()
    ProgressOut.model_validate(p)
    assert p["status"] == "done" and p["percent"] == 100 and p["created"] == 1 and p["rejected"] == 1
    r = api.get(f"{base}/rejected")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "Company Name,Country,City,E-mail,Reason" and "x@" in body
    r = api.post(f"{base}/undo")
    assert r.status_code == 200 and r.json()["deleted"] == 1
    assert not Company.objects.exists()
    r = api.post(f"{base}/undo")
    assert r.status_code == 422


def test_bad_inputs_are_422_naming_the_field(api_for, alice):
    api = api_for(alice)
    r = upload(api, text="")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    r = api.post("/api/v1/imports", {"file": SimpleUploadedFile("a.exe", b"MZ\x90\x00" + b"\x00" * 100),
                                     "entity": "companies"})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"] == [
        {"field": "file", "message": "“a.exe” is a program, not a spreadsheet: it is not accepted."}]  # fmt: skip
    r = upload(api, source="customs")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "source"
    job = upload(api).json()
    r = api.post(f"/api/v1/imports/{job['id']}/configure",
                 {"version": job["version"], "mapping": {"1": "country"}}, content_type=JSON)  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "mapping"
    r = api.post(f"/api/v1/imports/{job['id']}/configure",
                 {"version": job["version"], "mapping": {"0": "name"}, "options": {"default_country": "XX"}},
                 content_type=JSON)  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "default_country"


def test_too_big_upload_is_refused(api_for, alice, settings):
    settings.TRADECRM_IMPORT_MAX_BYTES = 20
    r = upload(api_for(alice))
    assert r.status_code == 422 and "larger than" in r.json()["detail"][0]["message"]
    assert not ImportJob.objects.exists()


def test_dave_gets_404_on_every_job_endpoint(api_for, alice, dave):
    job = upload(api_for(alice)).json()
    other = api_for(dave)
    base = f"/api/v1/imports/{job['id']}"
    for method, url in (("get", base), ("get", f"{base}/preview"), ("post", f"{base}/configure"),
                        ("post", f"{base}/dry-run"), ("post", f"{base}/start"), ("get", f"{base}/progress"),
                        ("get", f"{base}/rejected"), ("post", f"{base}/undo")):  # fmt: skip
        body = {"version": 1, "mapping": {"0": "name"}} if url.endswith("configure") else {}
        r = getattr(other, method)(url, body, content_type=JSON) if method == "post" else other.get(url)
        assert r.status_code == 404, (url, r.status_code)
    assert other.get("/api/v1/imports").json()["items"] == []


def test_managers_see_their_teams_jobs_bob_does_not(api_for, alice, bob, carol):
    job = upload(api_for(alice)).json()
    assert api_for(carol).get(f"/api/v1/imports/{job['id']}").status_code == 200
    assert api_for(bob).get(f"/api/v1/imports/{job['id']}").status_code == 404
    items = api_for(carol).get("/api/v1/imports?limit=5").json()["items"]
    assert [i["id"] for i in items] == [job["id"]]


def test_saved_mappings(api_for, alice, dave):
    api = api_for(alice)
    r = api.post("/api/v1/import-mappings", {"name": "Canton Fair", "entity": "companies", "source": "trade_show",
                                             "mapping": {"公司名称": "name", "国家": "country"}}, content_type=JSON)  # fmt: skip
    assert r.status_code == 201, r.content
    mid = r.json()["id"]
    assert [m["name"] for m in api.get("/api/v1/import-mappings?entity=companies").json()["items"]] == [
        "Canton Fair"
    ]
    bad = api.post("/api/v1/import-mappings", {"name": "x", "entity": "companies", "mapping": {"a": "nonsense"}},
                   content_type=JSON)  # fmt: skip
    assert bad.status_code == 422
    assert api_for(dave).get(f"/api/v1/import-mappings/{mid}").status_code == 404
    assert api_for(dave).delete(f"/api/v1/import-mappings/{mid}").status_code == 404
    assert api.delete(f"/api/v1/import-mappings/{mid}").status_code == 204
    assert not MappingTemplate.objects.exists()


def test_upload_with_saved_mapping(api_for, alice):
    api = api_for(alice)
    api.post("/api/v1/import-mappings", {"name": "Mine", "entity": "companies",
                                         "mapping": {"companyname": "name", "country": "", "city": "city"}},
             content_type=JSON)  # fmt: skip
    job = upload(api, mapping_name="Mine").json()
    assert job["mapping"] == {"0": "name", "2": "city"} and job["mapping_name"] == "Mine"
    assert upload(api, mapping_name="Nope").status_code == 422


def test_status_values_in_the_schema_match_the_model():
    assert set(JobStatus.values) >= {"uploaded", "checked", "queued", "running", "done", "failed", "undone"}
