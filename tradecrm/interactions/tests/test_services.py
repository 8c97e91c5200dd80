"""The timeline's services: validation, safe bodies, revisions, last contact, attachments."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company
from tradecrm.interactions.models import Attachment, Interaction, InteractionRevision
from tradecrm.interactions.services import (
    attachment_add,
    attachment_read,
    company_refresh_last_contact,
    interaction_create,
    interaction_delete,
    interaction_search_text,
    interaction_update,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _files(media):
    return [p for p in media.rglob("*") if p.is_file()]


def test_create_stores_clean_values_and_audits(alice, acme, jane, wang, bob, log):
    i = log(contact=jane.pk, contacts=[wang.pk], participants=[bob.pk], subject="  Quote 2026  ")
    assert i.owner == alice and i.subject == "Quote 2026" and i.version == 1
    assert set(i.contacts.values_list("id", flat=True)) == {wang.pk}
    assert list(i.participants.all()) == [bob]
    assert "jane" in i.search_text and "王小明" in i.search_text and "⁅王小⁆" in i.search_text
    assert AuditEvent.objects.filter(action="interaction.create", object_id=i.pk).exists()


def test_every_bad_field_is_named_at_once(alice, acme, dave, make_company):
    other = make_company(name="Other Co")
    from tradecrm.customers.services import contact_create

    stranger = contact_create(actor=alice, company=other, data={"first_name": "Sam"})
    dave.is_active = False
    dave.save()
    data = {
        "type": "fax",
        "direction": "sideways",
        "occurred_at": "yesterday",
        "subject": "x" * 256,
        "contact": stranger.pk,
        "contacts": [stranger.pk],
        "participants": [dave.pk],
    }
    with pytest.raises(ValidationError) as exc:
        interaction_create(actor=alice, company=acme, data=data)
    assert set(exc.value.message_dict) == {
        "type",
        "direction",
        "occurred_at",
        "subject",
        "contact",
        "contacts",
        "participants",
    }
    assert "256" in exc.value.message_dict["subject"][0]
    assert not Interaction.objects.exists()


def test_occurred_at_is_required(alice, acme):
    with pytest.raises(ValidationError) as exc:
        interaction_create(actor=alice, company=acme, data={"type": "note"})
    assert "occurred_at" in exc.value.message_dict


def test_naive_time_is_read_in_the_actors_time_zone(alice, log):
    alice.timezone = "Asia/Shanghai"
    i = log(occurred_at="2026-11-20 09:30")
    assert i.occurred_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    i = log(occurred_at=dt.datetime(2026, 11, 20, 9, 30))
    assert i.occurred_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    # an explicit offset wins over the actor's zone
    i = log(occurred_at="2026-11-20T09:30:00-06:00")
    assert i.occurred_at == dt.datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@time_machine.travel(dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False)
def test_far_future_is_refused(alice, acme):
    with pytest.raises(ValidationError) as exc:
        interaction_create(
            actor=alice, company=acme, data={"type": "call", "occurred_at": "2026-11-30T10:00Z"}
        )
    assert "future" in exc.value.message_dict["occurred_at"][0]


def test_html_body_is_sanitized(log):
    i = log(
        body_format="html",
        body='<p onclick="x()">Hi <b>there</b><script>alert(1)</script>'
        '<a href="javascript:alert(2)">bad</a> <a href="https://ex.com">ok</a><img src=x onerror=y></p>',
    )
    assert "<script" not in i.body and "alert(1)" not in i.body and "onclick" not in i.body
    assert "javascript:" not in i.body and "<img" not in i.body and "onerror" not in i.body
    assert "<b>there</b>" in i.body and 'href="https://ex.com"' in i.body
    assert "alert" not in i.search_text and "there" in i.search_text


def test_plain_text_body_is_escaped_with_line_breaks(log):
    i = log(body="a < b & <script>\nsecond line")
    assert i.body == "a &lt; b &amp; &lt;script&gt;<br>second line"
    assert "a < b & <script>" in i.search_text


def test_update_keeps_revision_and_bumps_version(alice, bob, acme, log):
    i = log(subject="First", body="one")
    i = interaction_update(actor=bob, interaction=i, version=1, data={"subject": "Second"})
    i = interaction_update(actor=alice, interaction=i, version=2, data={"body": "two"})
    i.refresh_from_db()
    assert (i.version, i.subject, i.updated_by) == (3, "Second", alice)
    revs = list(InteractionRevision.objects.filter(interaction=i).order_by("version"))
    assert [(r.version, r.data["subject"], r.edited_by) for r in revs] == [
        (1, "First", bob),
        (2, "Second", alice),
    ]
    assert revs[1].data["saved_by"] == str(bob)
    assert "second" in i.search_text and "two" in i.search_text


def test_stale_version_is_refused(alice, bob, log):
    i = log()
    interaction_update(
        actor=bob, interaction=Interaction.objects.get(pk=i.pk), version=1, data={"subject": "B"}
    )
    with pytest.raises(ConcurrentEditError) as exc:
        interaction_update(actor=alice, interaction=i, version=1, data={"subject": "A"})
    assert exc.value.by == str(bob) and exc.value.current_version == 2
    assert Interaction.objects.get(pk=i.pk).subject == "B"
    assert InteractionRevision.objects.filter(interaction=i).count() == 1


def test_last_contact_follows_contact_types(alice, acme, log):
    call = log(type="call", occurred_at="2026-11-10T10:00Z")
    log(type="note", occurred_at="2026-11-20T10:00Z")  # a note is not a contact
    acme.refresh_from_db()
    assert acme.last_contact_at == dt.datetime(2026, 11, 10, 10, tzinfo=UTC)
    visit = log(type="visit", occurred_at="2026-11-15T08:00Z")
    acme.refresh_from_db()
    assert acme.last_contact_at == dt.datetime(2026, 11, 15, 8, tzinfo=UTC)
    interaction_update(actor=alice, interaction=call, version=1, data={"occurred_at": "2026-11-18T00:00Z"})
    acme.refresh_from_db()
    assert acme.last_contact_at == dt.datetime(2026, 11, 18, tzinfo=UTC)
    interaction_delete(actor=alice, interaction=Interaction.objects.get(pk=call.pk))
    acme.refresh_from_db()
    assert acme.last_contact_at == dt.datetime(2026, 11, 15, 8, tzinfo=UTC)
    interaction_delete(actor=alice, interaction=visit)
    acme.refresh_from_db()
    assert acme.last_contact_at is None
    assert acme.version == 1  # keeping the date is not an edit of the customer


def test_refresh_helper(acme, log):
    log(type="email", occurred_at="2026-11-01T00:00Z")
    Company.objects.filter(pk=acme.pk).update(last_contact_at=None)
    company_refresh_last_contact(acme.pk)
    assert Company.objects.get(pk=acme.pk).last_contact_at == dt.datetime(2026, 11, 1, tzinfo=UTC)


def test_search_text_helper_strips_tags_and_adds_cjk_grams():
    text = interaction_search_text("Offer", "<p>深圳 <b>LED</b> &amp; more</p>", "Jane")
    assert text.startswith("offer 深圳 led & more jane") and "⁅深圳⁆" in text


def test_delete_is_for_owner_logger_manager(alice, bob, carol, acme, log):
    from tradecrm.customers.services import company_update

    company_update(actor=alice, company=acme, version=1, data={"followers": [bob.pk]})
    i = log()
    with pytest.raises(PermissionDenied):
        interaction_delete(actor=bob, interaction=i)
    interaction_delete(actor=carol, interaction=i)
    assert not Interaction.objects.exists()


# --- attachments --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachment_is_sniffed_hashed_and_stored(alice, log, _media):
    i = log()
    a = attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile("photo.jpg", PNG, "image/jpeg"))
    assert a.content_type == "image/png"  # from the bytes, not the browser
    assert a.size == len(PNG) and len(a.sha256) == 64 and a.name == "photo.jpg"
    assert a.file.name.startswith("attachments/") and attachment_read(a) == PNG  # stored encrypted
    t = attachment_add(actor=alice, interaction=i, upload=ContentFile("报价 quote\n".encode(), name="q.txt"))
    assert t.content_type == "text/plain"
    b = attachment_add(actor=alice, interaction=i, upload=ContentFile(b"\x00\x01\x02\xff", name="blob.bin"))
    assert b.content_type == "application/octet-stream"


def test_attachment_over_the_limit_is_refused_and_nothing_stored(alice, log, settings, _media):
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    i = log()
    upload = SimpleUploadedFile("catalogue.pdf", b"%PDF-1.4" + b"x" * (1024 * 1024))
    with pytest.raises(ValidationError) as exc:
        attachment_add(actor=alice, interaction=i, upload=upload)
    assert "at most 1 MB" in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists() and _files(_media) == []


def test_stream_without_declared_size_is_measured(alice, log, settings, _media):
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 10 * 1024
    i = log()
    upload = ContentFile(b"y" * (11 * 1024), name="big.csv")
    upload.size = None  # some File objects do not know their size up front
    with pytest.raises(ValidationError) as exc:
        attachment_add(actor=alice, interaction=i, upload=upload)
    assert "at most 10 KB" in exc.value.message_dict["file"][0]
    assert _files(_media) == []


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("setup.exe", b"hello", ".exe"),
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60, "program"),
        ("photo.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "program"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "program"),
    ],
)
def test_forbidden_and_executable_files_are_refused(alice, log, name, content, needle, _media):
    i = log()
    with pytest.raises(ValidationError) as exc:
        attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile(name, content))
    assert needle in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists() and _files(_media) == []


def test_create_with_a_bad_file_stores_nothing(alice, acme, _media):
    with pytest.raises(ValidationError):
        interaction_create(
            actor=alice,
            company=acme,
            data={"type": "call", "occurred_at": "2026-11-20T10:00Z"},
            files=[SimpleUploadedFile("ok.png", PNG), SimpleUploadedFile("x.exe", b"MZ")],
        )
    assert not Interaction.objects.exists() and _files(_media) == []


def test_create_with_files_for_importers(alice, acme):
    i = interaction_create(
        actor=alice,
        company=acme,
        data={"type": "whatsapp", "direction": "in", "occurred_at": "2026-11-20T10:00Z", "body": "hi"},
        files=[ContentFile(PNG, name="IMG-0001.png")],
        source="whatsapp",
        external_id="wa:1",
    )
    assert i.source == "whatsapp" and i.attachments.get().content_type == "image/png"
    with pytest.raises(ValidationError) as exc:
        interaction_create(
            actor=alice,
            company=acme,
            data={"type": "whatsapp", "occurred_at": "2026-11-20T10:00Z"},
            source="whatsapp",
            external_id="wa:1",
        )
    assert "external_id" in exc.value.message_dict


def test_delete_removes_files_after_commit(alice, log, _media, django_capture_on_commit_callbacks):
    i = log()
    attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile("a.png", PNG))
    assert len(_files(_media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        interaction_delete(actor=alice, interaction=i)
    assert _files(_media) == [] and not Attachment.objects.exists()
