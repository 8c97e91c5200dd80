"""The timeline's HTML views: access (404 for what is not yours), the two-click quick log, the
htmx timeline and its query budget, edit with stale refusal, history, delete, files, search."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tradecrm.customers.services import company_update
from tradecrm.interactions.models import Attachment, Interaction
from tradecrm.interactions.services import attachment_add, interaction_update

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def entry(alice, jane, log):
    i = log(contact=jane.pk, body="Asked for the <b>price</b> list")
    attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile("offer.png", PNG))
    return i


def _by_id_urls(company, interaction, attachment, contact):
    return [
        reverse("interactions:company_timeline", args=[company.pk]),
        reverse("interactions:create", args=[company.pk]),
        reverse("interactions:detail", args=[interaction.pk]),
        reverse("interactions:edit", args=[interaction.pk]),
        reverse("interactions:history", args=[interaction.pk]),
        reverse("interactions:delete", args=[interaction.pk]),
        reverse("interactions:attachment_upload", args=[interaction.pk]),
        reverse("interactions:attachment_download", args=[attachment.pk]),
        reverse("interactions:contact_timeline", args=[contact.pk]),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_team_gets_404_on_every_object_view(client_for, dave, acme, entry, jane, method):
    c = client_for(dave)
    for url in _by_id_urls(acme, entry, entry.attachments.get(), jane):
        r = getattr(c, method)(url)
        assert r.status_code in (404, 405), url
        if not (method == "get" and url.endswith("/attachments/")):
            assert r.status_code == 404, url
    assert Interaction.objects.filter(pk=entry.pk).exists() and Attachment.objects.count() == 1


def test_missing_ids_are_404(client_for, alice):
    c = client_for(alice)
    for name in ("detail", "edit", "history", "delete", "attachment_download", "contact_timeline"):
        assert c.get(reverse(f"interactions:{name}", args=[999999])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, acme, entry):
    r = client.get(reverse("interactions:company_timeline", args=[acme.pk]))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_customer_page_has_the_timeline_card(client_for, alice, acme):
    r = client_for(alice).get(reverse("customers:company_detail", args=[acme.pk]))
    html = r.content.decode()
    assert 'data-testid="timeline-card"' in html
    assert reverse("interactions:company_timeline", args=[acme.pk]) in html
    assert 'data-testid="quick-call"' in html and 'data-testid="quick-sample"' in html
    assert reverse("whatsapp:import", args=[acme.pk]) in html


@time_machine.travel(dt.datetime(2026, 11, 23, 14, 5, tzinfo=dt.UTC), tick=False)
def test_quick_log_in_two_clicks(client_for, alice, acme, jane):
    alice.timezone = "Asia/Shanghai"
    alice.save()
    c = client_for(alice)
    url = reverse("interactions:create", args=[acme.pk])
    form = c.get(url + "?type=whatsapp", **HX).content.decode()  # click 1: the prefilled form
    assert 'data-testid="quick-form"' in form and "<html" not in form
    assert 'value="2026-11-23T22:05"' in form  # now, in alice's zone
    assert '<option value="whatsapp" selected>' in form and '<option value="out" selected>' in form
    assert f'<option value="{jane.pk}" selected>' in form  # the primary contact
    data = {
        "type": "whatsapp",
        "direction": "out",
        "occurred_at": "2026-11-23T22:05",
        "contact": str(jane.pk),
        "subject": "",
        "body": "Sent the catalogue",
        "body_format": "text",
    }
    r = c.post(url + "?type=whatsapp", data, **HX)  # click 2: save
    assert r.status_code == 200
    html = r.content.decode()
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in html and "Sent the catalogue" in html
    i = Interaction.objects.get()
    assert i.occurred_at == dt.datetime(2026, 11, 23, 14, 5, tzinfo=dt.UTC) and i.owner == alice
    assert i.contact == jane
    acme.refresh_from_db()
    assert acme.last_contact_at == i.occurred_at


def test_quick_log_errors_come_back_in_the_form(client_for, alice, acme):
    c = client_for(alice)
    url = reverse("interactions:create", args=[acme.pk])
    r = c.post(url, {"type": "call", "occurred_at": "", "subject": "x"}, **HX)
    assert r.status_code == 200 and "Enter when it happened." in r.content.decode()
    r = c.post(url, {"type": "call", "occurred_at": ""})
    assert r.status_code == 422
    assert not Interaction.objects.exists()


def test_full_form_without_htmx_redirects_and_takes_files(client_for, alice, acme):
    c = client_for(alice)
    url = reverse("interactions:create", args=[acme.pk])
    r = c.post(
        url,
        {
            "type": "meeting",
            "occurred_at": "2026-11-20T10:00",
            "subject": "Canton Fair",
            "files": [SimpleUploadedFile("card.png", PNG)],
        },
    )
    i = Interaction.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/customers/{acme.pk}/#entry-{i.pk}")
    assert i.attachments.get().name == "card.png"


def test_timeline_partial_shows_both_clocks_and_pages(client_for, alice, acme, entry, log, bob):
    company_update(actor=alice, company=acme, version=acme.version, data={"timezone": "America/Chicago"})
    alice.timezone = "Asia/Shanghai"
    alice.save()
    for n in range(31):
        log(subject=f"older {n}", occurred_at=f"2026-10-{1 + n % 28:02d}T08:00:00Z", participants=[bob.pk])
    c = client_for(alice)
    url = reverse("interactions:company_timeline", args=[acme.pk])
    r = c.get(url, **HX)
    html = r.content.decode()
    assert html.count('data-testid="timeline-entry"') == 30 and "<html" not in html
    # 2026-11-20 10:00 UTC is 18:00 in Shanghai and 04:00 in Chicago
    assert "Fri 2026-11-20 18:00 Shanghai" in html and "Fri 2026-11-20 04:00 Chicago" in html
    assert (
        "Price follow-up" in html
        and "&lt;b&gt;price&lt;/b&gt;" in html
        and "offer.png" in html
        and "Jane Doe" in html
    )
    assert 'data-testid="timeline-more"' in html
    next_url = html.split('data-testid="timeline-more"')[0].rsplit('href="', 1)[1].split('"')[0]
    more = c.get(next_url.replace("&amp;", "&"), **HX).content.decode()
    assert more.count('data-testid="timeline-entry"') == 2 and 'data-testid="timeline-more"' not in more


def test_timeline_query_budget(client_for, alice, bob, acme, jane, wang, log, django_assert_max_num_queries):
    for n in range(5):
        i = log(subject=f"s{n}", contact=jane.pk, contacts=[wang.pk], participants=[bob.pk])
        attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile(f"f{n}.png", PNG))
    c = client_for(alice)
    url = reverse("interactions:company_timeline", args=[acme.pk])
    with django_assert_max_num_queries(6):  # session, user, company, page, related
        r = c.get(url, **HX)
    assert r.content.decode().count('data-testid="attachment"') == 5


def test_manager_timeline_query_budget(client_for, carol, acme, log, django_assert_max_num_queries):
    log()
    c = client_for(carol)
    with django_assert_max_num_queries(6):  # + the manager's team subtree
        r = c.get(reverse("interactions:company_timeline", args=[acme.pk]), **HX)
    assert r.status_code == 200


def test_timeline_type_filter(client_for, alice, acme, log):
    log(type="call", subject="the call")
    log(type="note", subject="the note")
    html = (
        client_for(alice)
        .get(reverse("interactions:company_timeline", args=[acme.pk]) + "?types=note", **HX)
        .content.decode()
    )
    assert "the note" in html and "the call" not in html


def test_full_timeline_page_without_htmx(client_for, alice, acme, entry):
    r = client_for(alice).get(reverse("interactions:company_timeline", args=[acme.pk]))
    assert r.status_code == 200 and "<html" in r.content.decode() and "Price follow-up" in r.content.decode()


def test_edit_saves_and_refuses_stale_version(client_for, alice, bob, acme, entry):
    c = client_for(alice)
    url = reverse("interactions:edit", args=[entry.pk])
    page = c.get(url).content.decode()
    assert "Asked for the &lt;b&gt;price&lt;/b&gt; list" in page  # the text as typed
    data = {
        "type": "call",
        "direction": "in",
        "occurred_at": "2026-11-20T18:00",
        "subject": "Changed",
        "body": "new body",
        "body_format": "text",
        "version": "1",
    }
    interaction_update(
        actor=bob, interaction=Interaction.objects.get(pk=entry.pk), version=1, data={"subject": "Bob's"}
    )
    r = c.post(url, data)
    assert r.status_code == 409
    assert "changed by Bob" in r.content.decode()
    assert Interaction.objects.get(pk=entry.pk).subject == "Bob's"
    r = c.post(url, {**data, "version": "2"})
    assert r.status_code == 302
    i = Interaction.objects.get(pk=entry.pk)
    assert (i.subject, i.direction, i.version, i.body) == ("Changed", "in", 3, "new body")


def test_history_lists_revisions(client_for, alice, bob, entry):
    interaction_update(actor=bob, interaction=entry, version=1, data={"subject": "Second"})
    r = client_for(alice).get(reverse("interactions:history", args=[entry.pk]))
    html = r.content.decode()
    assert html.count('data-testid="revision"') == 1 and "Price follow-up" in html and "Second" in html
    assert "replaced by Bob" in html


def test_delete_with_confirmation(client_for, alice, bob, acme, entry, _media):
    company_update(actor=alice, company=acme, version=acme.version, data={"followers": [bob.pk]})
    url = reverse("interactions:delete", args=[entry.pk])
    assert client_for(bob).post(url).status_code == 403  # a follower did not log it
    c = client_for(alice)
    assert "Delete the entry" in c.get(url).content.decode()
    r = c.post(url, **HX)
    assert r.status_code == 200 and r.content == b""
    assert not Interaction.objects.exists()


def test_upload_and_download(client_for, alice, entry, settings):
    c = client_for(alice)
    url = reverse("interactions:attachment_upload", args=[entry.pk])
    r = c.post(url, {"file": SimpleUploadedFile("notes.txt", b"hello")}, **HX)
    assert r.status_code == 200 and "notes.txt" in r.content.decode()
    a = Attachment.objects.get(name="notes.txt")
    r = c.get(reverse("interactions:attachment_download", args=[a.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"hello"
    assert r["Content-Disposition"].startswith("attachment;") and r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Type"] == "text/plain"
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    r = c.post(url, {"file": SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))}, **HX)
    assert "at most 1 MB" in r.content.decode() and not Attachment.objects.filter(name="big.bin").exists()


def test_contact_timeline(client_for, alice, jane, wang, log):
    log(subject="with jane", contact=jane.pk)
    log(subject="jane cc", contact=wang.pk, contacts=[jane.pk])
    log(subject="only wang", contact=wang.pk)
    html = client_for(alice).get(reverse("interactions:contact_timeline", args=[jane.pk])).content.decode()
    assert "with jane" in html and "jane cc" in html and "only wang" not in html


def test_search_page(client_for, alice, dave, acme, log, make_company):
    log(subject="Sample of LED panels", body="客户要求报价")
    theirs = make_company(actor=dave, name="West Co")
    log(actor=dave, company=theirs, subject="LED panels for dave")
    html = client_for(alice).get(reverse("interactions:search") + "?q=led panels").content.decode()
    assert "Sample of LED panels" in html and "dave" not in html.split("search-results")[1]
    assert 'class="nav-item dropdown active"' in html  # the "More" menu holding timeline search
    html = client_for(alice).get(reverse("interactions:search") + "?q=报价").content.decode()
    assert "Sample of LED panels" in html
