"""The WhatsApp import page, the API and the command: preview then import, errors naming the line,
size guard, and 404 for a customer the user cannot see."""

import io
import json
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tradecrm.accounts.models import ApiToken
from tradecrm.customers.services import contact_create
from tradecrm.interactions import whatsapp_views
from tradecrm.interactions.models import Interaction
from tradecrm.interactions.whatsapp_api import WhatsAppImportResult, WhatsAppUnreadableFile

pytestmark = pytest.mark.django_db

CHAT = (
    "31/12/2023, 21:41 - Jane Doe: Hello, price list please\n"
    "31/12/2023, 21:45 - Alice Wang: Sent, see attachment\n"
    "01/01/2024, 09:00 - Jane Doe: Thanks!\n"
)
API = "/api/v1/whatsapp-imports"


def _file(text=CHAT, name="WhatsApp Chat with Jane Doe.txt"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


@pytest.fixture
def jane_doe(alice, acme):
    return contact_create(actor=alice, company=acme, data={"first_name": "Jane", "last_name": "Doe"})


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _url(company):
    return reverse("whatsapp:import", args=[company.pk])


def test_upload_preview_then_import(client_for, alice, acme, jane_doe, _media):
    c = client_for(alice)
    page = c.get(_url(acme))
    assert page.status_code == 200 and b'name="file"' in page.content
    assert f'value="{alice.timezone}" selected'.encode() in page.content

    data = {"file": _file(), "my_names": "Alice Wang", "timezone": "Europe/Berlin", "date_order": ""}
    preview = c.post(_url(acme), data)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert (
        'data-testid="wa-new">3<' in html
        and 'value="Alice Wang" checked' in html
        and 'value="Jane Doe" aria' in html
    )
    assert "Hello, price list please" in html and not Interaction.objects.exists()
    token = preview.context["token"]
    assert len(list((_media / "whatsapp-imports" / str(alice.pk)).iterdir())) == 1

    done = c.post(
        _url(acme),
        {
            "token": token,
            "file_name": "chat.txt",
            "me": ["Alice Wang"],
            "timezone": "Europe/Berlin",
            "action": "import",
        },
    )
    assert done.status_code == 302 and done["Location"] == reverse("customers:company_detail", args=[acme.pk])
    assert [(i.direction, i.contact_id) for i in Interaction.objects.order_by("occurred_at")] == [
        ("in", jane_doe.pk),
        ("out", jane_doe.pk),
        ("in", jane_doe.pk),
    ]
    assert not list((_media / "whatsapp-imports" / str(alice.pk)).iterdir())  # the pending upload is gone
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        "WhatsApp chat imported: 3 new messages, 0 already on the timeline."
    ]
    # the token is spent: a second click does not import twice
    again = c.post(_url(acme), {"token": token, "timezone": "Europe/Berlin", "action": "import"})
    assert again.status_code == 422 and Interaction.objects.count() == 3


def test_preview_again_with_another_date_order_over_htmx(client_for, alice, acme):
    c = client_for(alice)
    chat = "01/02/24, 10:00 - Jane Doe: a\n03/04/24, 11:00 - Jane Doe: b\n"
    first = c.post(_url(acme), {"file": _file(chat), "timezone": "UTC"}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and 'data-testid="wa-ambiguous"' in first.content.decode()
    assert "<html" not in first.content.decode()  # htmx gets the step only
    assert "2024-02-01 18:00" in first.content.decode()  # 10:00 UTC shown in alice's time (Shanghai)
    token = first.context["token"]
    second = c.post(
        _url(acme),
        {"token": token, "timezone": "UTC", "date_order": "MDY", "action": "preview"},
        HTTP_HX_REQUEST="true",
    )
    assert second.context["result"].preview[0]["local_time"].month == 1
    assert "wa-ambiguous" not in second.content.decode()
    done = c.post(
        _url(acme),
        {"token": token, "timezone": "UTC", "date_order": "MDY", "action": "import"},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 204 and done["HX-Redirect"].endswith(f"/customers/{acme.pk}/")
    assert Interaction.objects.order_by("occurred_at").first().occurred_at.month == 1


def test_unknown_format_shows_the_line_and_imports_nothing(client_for, alice, acme):
    resp = client_for(alice).post(_url(acme), {"file": _file("Hello Jane\n" + CHAT), "timezone": "UTC"})
    assert resp.status_code == 422
    assert "Line 1 is not in a WhatsApp export format" in resp.content.decode()
    assert "Hello Jane" in resp.content.decode() and not Interaction.objects.exists()


def test_upload_over_the_limit_is_refused_naming_it(client_for, alice, acme, monkeypatch):
    monkeypatch.setattr(whatsapp_views, "MAX_UPLOAD_BYTES", 100)
    resp = client_for(alice).post(_url(acme), {"file": _file(CHAT * 3), "timezone": "UTC"})
    assert resp.status_code == 413 and "at most 100 bytes" in resp.content.decode()
    # a request far over the limit is refused on its declared length
    resp = client_for(alice).post(_url(acme), {"file": _file(CHAT * 500), "timezone": "UTC"})
    assert resp.status_code == 413 and "larger than 100 bytes" in resp.content.decode()


def test_a_token_of_another_user_is_not_found(client_for, alice, bob, acme):
    preview = client_for(alice).post(_url(acme), {"file": _file(), "timezone": "UTC"})
    token = preview.context["token"]
    resp = client_for(bob).post(_url(acme), {"token": token, "timezone": "UTC", "action": "import"})
    assert resp.status_code in (404, 422) and not Interaction.objects.exists()
    resp = client_for(alice).post(_url(acme), {"token": "../../etc", "timezone": "UTC", "action": "import"})
    assert resp.status_code == 422 and not Interaction.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_page_is_404_for_a_customer_you_cannot_see(client_for, dave, acme, method):
    resp = getattr(client_for(dave), method)(_url(acme), {"timezone": "UTC"} if method == "post" else None)
    assert resp.status_code == 404


def test_page_needs_sign_in(client, acme):
    assert client.get(_url(acme)).status_code == 302


# --- API ----------------------------------------------------------------------------------------


def test_api_imports_and_reports(api_for, alice, acme, jane_doe):
    api = api_for(alice)
    data = {"company_id": acme.pk, "file": _file(), "my_names": ["Alice Wang"], "timezone": "UTC"}
    dry = api.post(API, {**data, "dry_run": "true"})
    assert dry.status_code == 200 and dry.json()["created"] == 3 and not Interaction.objects.exists()
    resp = api.post(API, {**data, "file": _file()})
    body = resp.json()
    assert resp.status_code == 201
    assert (body["messages"], body["created"], body["duplicates"], body["date_order"]) == (3, 3, 0, "DMY")
    assert body["senders"][0] == {
        "name": "Alice Wang",
        "messages": 1,
        "direction": "out",
        "contact_id": None,
        "contact_name": "",
    }
    assert body["preview"][0]["occurred_at"] == "2023-12-31T21:41:00Z"
    WhatsAppImportResult.model_validate(body)  # the answer is what OpenAPI documents
    again = api.post(API, {**data, "file": _file()}).json()
    assert (again["created"], again["duplicates"]) == (0, 3)


def test_api_unknown_format_is_422_with_the_line(api_for, alice, acme):
    resp = api_for(alice).post(
        API, {"company_id": acme.pk, "file": _file(CHAT + "99/99/2024, 10:00 - X: y\n")}
    )
    assert resp.status_code == 422
    body = resp.json()
    assert (body["line"], body["content"]) == (4, "99/99/2024, 10:00 - X: y")
    assert body["detail"][0]["field"] == "file" and "Line 4" in body["detail"][0]["message"]
    WhatsAppUnreadableFile.model_validate(body)
    assert not Interaction.objects.exists()


def test_api_bad_timezone_is_422(api_for, alice, acme):
    resp = api_for(alice).post(API, {"company_id": acme.pk, "file": _file(), "timezone": "Nowhere/Land"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "timezone"


def test_api_is_404_for_a_customer_you_cannot_see(api_for, dave, acme):
    resp = api_for(dave).post(API, {"company_id": acme.pk, "file": _file()})
    assert resp.status_code == 404 and not Interaction.objects.exists()


def test_api_needs_a_token(client, acme):
    assert client.post(API, {"company_id": acme.pk, "file": _file()}).status_code == 401


# --- command ------------------------------------------------------------------------------------


def test_command_imports_and_prints_json(alice, acme, jane_doe, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text(CHAT, encoding="utf-8-sig")
    out = io.StringIO()
    call_command(
        "whatsapp_import", str(acme.pk), str(path), "--user", "alice", "--me", "Alice Wang", "--timezone", "UTC",
        "--json", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert (result["created"], result["file_name"]) == (3, "chat.txt")
    out = io.StringIO()
    call_command("whatsapp_import", str(acme.pk), str(path), "--user", "alice", "--dry-run", stdout=out)
    assert "would import 0, 3 already on the timeline" in out.getvalue()


def test_command_refuses_what_the_user_cannot_see_and_bad_files(dave, alice, acme, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("not a chat\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no customer with id"):
        call_command("whatsapp_import", str(acme.pk), str(path), "--user", "dave")
    with pytest.raises(CommandError, match="Line 1"):
        call_command("whatsapp_import", str(acme.pk), str(path), "--user", "alice")
    assert not Interaction.objects.exists()


def test_zip_upload_preview_then_import_attaches_the_media(client_for, alice, acme):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("_chat.txt", "[31/12/2023, 21:41:05] Jane Doe: \u200e<attached: 00000001-PHOTO.jpg>\n")
        z.writestr("00000001-PHOTO.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32)
    upload = SimpleUploadedFile("WhatsApp Chat - Jane.zip", buf.getvalue(), content_type="application/zip")
    c = client_for(alice)
    preview = c.post(_url(acme), {"file": upload, "timezone": "UTC"})
    assert 'data-testid="wa-media"' in preview.content.decode()
    token = preview.context["token"]
    done = c.post(_url(acme), {"token": token, "timezone": "UTC", "action": "import"})
    assert done.status_code == 302
    entry = Interaction.objects.get()
    assert [a.name for a in entry.attachments.all()] == ["00000001-PHOTO.jpg"]
