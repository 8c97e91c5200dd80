"""Importing a WhatsApp export into the timeline: matching senders to contacts, directions, time
zones, de-duplication on re-import, media from a .zip, and files refused with nothing written."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.core.search import apply_search
from tradecrm.customers.models import Company
from tradecrm.customers.services import contact_create
from tradecrm.interactions.models import Attachment, Interaction
from tradecrm.interactions.whatsapp_services import WhatsAppFileInvalid, whatsapp_import

pytestmark = pytest.mark.django_db

UTC = dt.UTC
LRM = "\u200e"

CHAT = (
    "12/30/23, 9:41 PM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them. Tap to learn more.\n"
    "12/30/23, 9:41 PM - Jane Doe: Hi, did you get our PO?\n"
    "Quantity: 2 x 40HQ\n"
    "12/30/23, 9:45 PM - Alice Wang: Yes <confirming> today\n"
    "12/30/23, 9:45 PM - Alice Wang: ok\n"
    "12/30/23, 9:45 PM - Alice Wang: ok\n"
)
MORE = "12/31/23, 10:00 AM - Jane Doe: Great, thanks\n"


def _txt(text: str, name: str = "WhatsApp Chat with Jane Doe.txt") -> io.BytesIO:
    f = io.BytesIO(text.encode())
    f.name = name
    return f


def _zip(members: dict[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    buf.seek(0)
    buf.name = "WhatsApp Chat with Jane Doe.zip"
    return buf


@pytest.fixture
def jane_doe(alice, acme):
    return contact_create(
        actor=alice,
        company=acme,
        data={"first_name": "Jane", "last_name": "Doe", "phones": ["+1 312 555 0142"]},
    )


def _run(alice, acme, text, **kw):
    kw.setdefault("my_names", ["Alice Wang"])
    kw.setdefault("timezone", "America/Chicago")
    return whatsapp_import(actor=alice, company=acme, file=_txt(text), **kw)


def test_import_creates_one_entry_per_message(alice, acme, jane_doe):
    result = _run(alice, acme, CHAT)
    assert (result.messages, result.created, result.duplicates, result.system_lines) == (4, 4, 0, 1)
    assert (result.format, result.date_order, result.date_order_ambiguous) == ("android", "MDY", False)
    assert result.unmatched_senders == []
    rows = list(Interaction.objects.filter(company=acme).order_by("occurred_at", "id"))
    assert [(r.direction, r.contact_id) for r in rows] == [("in", jane_doe.pk)] + [("out", jane_doe.pk)] * 3
    first = rows[0]
    assert (first.type, first.source, first.owner) == ("whatsapp", "whatsapp", alice)
    # 21:41 in Chicago (UTC-6 in December) is 03:41 UTC the next day
    assert first.occurred_at == dt.datetime(2023, 12, 31, 3, 41, tzinfo=UTC)
    assert first.subject == "Hi, did you get our PO? Quantity: 2 x 40HQ"
    assert first.body == "Hi, did you get our PO?<br>Quantity: 2 x 40HQ"
    assert rows[1].body == "Yes &lt;confirming&gt; today"
    assert "40hq" in first.search_text and "jane" in first.search_text
    assert list(apply_search(Interaction.objects.all(), "40HQ")) == [first]  # the search index has it
    assert len({r.external_id for r in rows}) == 4  # the two identical "ok" differ by their ordinal
    acme.refresh_from_db()
    assert acme.last_contact_at == rows[-1].occurred_at
    event = AuditEvent.objects.get(action="whatsapp.import")
    assert event.object_id == acme.pk and event.changes["created"] == 4


def test_reimport_skips_what_is_there_and_adds_only_new_messages(alice, acme, jane_doe):
    _run(alice, acme, CHAT)
    again = _run(alice, acme, CHAT)
    assert (again.created, again.duplicates) == (0, 4)
    # a longer export of the same chat, read in another time zone: only the new message is added
    longer = _run(alice, acme, CHAT + MORE, timezone="Asia/Shanghai")
    assert (longer.created, longer.duplicates) == (1, 4)
    assert Interaction.objects.filter(company=acme).count() == 5
    assert AuditEvent.objects.filter(action="whatsapp.import").count() == 3


def test_dry_run_counts_and_previews_without_writing(alice, acme, jane_doe):
    _run(alice, acme, CHAT)
    preview = _run(alice, acme, CHAT + MORE, dry_run=True)
    assert (preview.created, preview.duplicates, preview.dry_run) == (1, 4, True)
    assert [(p["sender"], p["direction"], p["contact_name"], p["duplicate"]) for p in preview.preview] == [
        ("Jane Doe", "in", "Jane Doe", True),
        ("Alice Wang", "out", "Jane Doe", True),
        ("Alice Wang", "out", "Jane Doe", True),
        ("Alice Wang", "out", "Jane Doe", True),
        ("Jane Doe", "in", "Jane Doe", False),
    ]
    assert Interaction.objects.filter(company=acme).count() == 4
    assert AuditEvent.objects.filter(action="whatsapp.import").count() == 1


def test_sender_matched_by_e164_phone_and_by_local_name(alice, acme, jane_doe):
    wang = contact_create(
        actor=alice, company=acme, data={"name_local": "王小明", "whatsapp": "+86 138 0013 8000"}
    )
    chat = (
        "[31/12/2023, 21:41:05] \u202a+1 (312) 555-0142\u202c: from Jane's phone\n"
        "[31/12/2023, 21:42:05] +86 138 0013 8000: 你好\n"
        "[31/12/2023, 21:43:05] 王小明: 价格?\n"
        "[31/12/2023, 21:44:05] Someone Else: hi\n"
        "[31/12/2023, 21:45:05] +86 139 1111 2222: who am I\n"
        "[31/12/2023, 21:46:05] Alice W.: reply\n"
    )
    result = _run(alice, acme, chat, my_names=["alice w."])
    by_sender = {s.name: (s.direction, s.contact_id) for s in result.senders}
    assert by_sender == {
        "+1 (312) 555-0142": ("in", jane_doe.pk),
        "+86 138 0013 8000": ("in", wang.pk),
        "王小明": ("in", wang.pk),
        "Someone Else": ("in", None),
        "+86 139 1111 2222": ("in", None),
        "Alice W.": ("out", None),  # several people in the chat: no single counterpart
    }
    assert sorted(result.unmatched_senders) == ["+86 139 1111 2222", "Someone Else"]


def test_my_phone_number_marks_my_messages_outgoing(alice, acme, jane_doe):
    chat = "[31/12/2023, 21:41:05] Jane Doe: hi\n[31/12/2023, 21:42:05] \u202a+49 171 1234567\u202c: hello\n"
    result = _run(alice, acme, chat, my_names=["+491711234567"])
    assert [(p["direction"], p["contact_id"]) for p in result.preview] == [
        ("in", jane_doe.pk),
        ("out", jane_doe.pk),
    ]


def test_unknown_format_names_the_line_and_imports_nothing(alice, acme):
    with pytest.raises(WhatsAppFileInvalid) as err:
        _run(alice, acme, "Chat export of Jane\n" + CHAT)
    assert err.value.line == 1 and err.value.content == "Chat export of Jane"
    assert "Line 1" in err.value.message_dict["file"][0]
    with pytest.raises(WhatsAppFileInvalid) as err:
        _run(alice, acme, CHAT + "13/31/23, 10:00 AM - Jane Doe: impossible\n")
    assert err.value.line == 7 and "Line 7" in err.value.message_dict["file"][0]
    assert (
        not Interaction.objects.exists() and not AuditEvent.objects.filter(action="whatsapp.import").exists()
    )


def test_ambiguous_dates_are_reported_and_can_be_forced(alice, acme):
    chat = "01/02/24, 10:00 - Jane Doe: a\n03/04/24, 11:00 - Jane Doe: b\n"
    auto = _run(alice, acme, chat, dry_run=True, timezone="UTC")
    assert (auto.date_order, auto.date_order_ambiguous) == ("DMY", True)
    assert auto.preview[0]["occurred_at"] == dt.datetime(2024, 2, 1, 10, 0, tzinfo=UTC)
    forced = _run(alice, acme, chat, date_order="MDY", timezone="UTC")
    assert (forced.date_order, forced.date_order_ambiguous) == ("MDY", False)
    first = Interaction.objects.order_by("occurred_at").first()
    assert first.occurred_at == dt.datetime(2024, 1, 2, 10, 0, tzinfo=UTC)


def test_timezone_defaults_to_the_users_and_is_validated(alice, acme):
    alice.timezone = "Europe/Berlin"
    result = whatsapp_import(actor=alice, company=acme, file=_txt(MORE), my_names=[], dry_run=True)
    assert result.timezone == "Europe/Berlin"
    assert result.preview[0]["occurred_at"] == dt.datetime(2023, 12, 31, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as err:
        _run(alice, acme, MORE, timezone="Mars/Olympus")
    assert "timezone" in err.value.message_dict


def _ios_zip(photo: bytes, extra: dict | None = None) -> io.BytesIO:
    chat = (
        "[31/12/2023, 21:41:05] Jane Doe: catalogue attached\n"
        f"{LRM}[31/12/2023, 21:42:00] Jane Doe: {LRM}<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>\n"
        f"{LRM}[31/12/2023, 21:43:00] Jane Doe: {LRM}<attached: 00000013-setup.exe>\n"
        f"{LRM}[31/12/2023, 21:44:00] Jane Doe: {LRM}<attached: 00000014-AUDIO.opus>\n"
    )
    members = {"_chat.txt": chat.encode(), "00000012-PHOTO-2023-12-31-21-41-05.jpg": photo}
    members["00000013-setup.exe"] = b"MZ\x90\x00program"
    return _zip(members | (extra or {}))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def test_zip_media_stored_as_attachments_refusals_reported(alice, acme, jane_doe):
    result = whatsapp_import(
        actor=alice, company=acme, file=_ios_zip(JPEG), my_names=["Alice"], timezone="UTC"
    )
    assert (result.created, result.attachments_stored) == (4, 1)
    assert [r["name"] for r in result.attachments_refused] == ["00000013-setup.exe"]
    assert result.attachments_missing == ["00000014-AUDIO.opus"]
    assert result.media_files == 2  # the photo and the refused program were in the zip
    photo = Attachment.objects.get()
    assert photo.name == "00000012-PHOTO-2023-12-31-21-41-05.jpg" and photo.content_type == "image/jpeg"
    assert photo.interaction.subject == "00000012-PHOTO-2023-12-31-21-41-05.jpg"
    # re-importing the same zip adds neither messages nor a second copy of the photo
    again = whatsapp_import(
        actor=alice, company=acme, file=_ios_zip(JPEG), my_names=["Alice"], timezone="UTC"
    )
    assert (again.created, again.duplicates, again.attachments_stored) == (0, 4, 0)
    assert Attachment.objects.count() == 1


def test_media_too_large_is_refused_not_fatal(alice, acme, settings):
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 10
    result = whatsapp_import(actor=alice, company=acme, file=_ios_zip(JPEG), my_names=[], timezone="UTC")
    assert result.created == 4 and result.attachments_stored == 0
    assert "at most" in result.attachments_refused[0]["reason"]
    assert not Attachment.objects.exists()


def test_export_without_media_then_with_media_attaches_to_the_same_message(alice, acme):
    without = "[31/12/2023, 21:42:00] Jane Doe: \u200eimage omitted\n"
    first = _run(alice, acme, without, timezone="UTC")
    assert first.created == 1
    with_media = whatsapp_import(
        actor=alice,
        company=acme,
        file=_zip(
            {
                "_chat.txt": b"[31/12/2023, 21:42:00] Jane Doe: \xe2\x80\x8e<attached: 00000012-PHOTO.jpg>\n",
                "00000012-PHOTO.jpg": JPEG,
            }
        ),
        my_names=[],
        timezone="UTC",
    )
    assert (with_media.created, with_media.duplicates, with_media.attachments_stored) == (0, 1, 1)
    assert Attachment.objects.get().interaction == Interaction.objects.get()


def test_zip_without_chat_is_refused(alice, acme):
    with pytest.raises(WhatsAppFileInvalid) as err:
        whatsapp_import(actor=alice, company=acme, file=_zip({"a.jpg": JPEG}), my_names=[], timezone="UTC")
    assert err.value.line is None and "chat text" in err.value.messages[0]
    assert Company.objects.get(pk=acme.pk).last_contact_at is None


def test_saved_name_with_company_suffix_matches_the_one_contact_it_names(alice, acme, jane_doe):
    contact_create(actor=alice, company=acme, data={"first_name": "John", "last_name": "Doe"})
    chat = (
        "[31/12/2023, 21:41:05] Jane Doe (Acme Chicago): hi\n"
        "[31/12/2023, 21:42:05] Acme - Doe: who is this?\n"  # both Does: not guessed
    )
    result = _run(alice, acme, chat, dry_run=True)
    assert {s.name: s.contact_id for s in result.senders} == {
        "Jane Doe (Acme Chicago)": jane_doe.pk,
        "Acme - Doe": None,
    }


def test_a_failure_after_the_media_were_stored_leaves_nothing_behind(alice, acme, monkeypatch, _media):
    from tradecrm.interactions import whatsapp_services

    def boom(*args, **kwargs):
        assert [p for p in _media.rglob("*") if p.is_file()]  # the photo was written by then
        raise RuntimeError("disk full")

    monkeypatch.setattr(whatsapp_services, "_audit", boom)
    with pytest.raises(RuntimeError):
        whatsapp_import(actor=alice, company=acme, file=_ios_zip(JPEG), my_names=[], timezone="UTC")
    assert not Interaction.objects.exists() and not Attachment.objects.exists()
    assert not [p for p in _media.rglob("*") if p.is_file()]


def test_a_number_or_name_written_differently_is_the_same_sender_for_dedup(alice, acme):
    first = (
        "[31/12/2023, 21:41:05] \u202a+49 171 1234567\u202c: hello\n[31/12/2023, 21:42:05] Jane  Doe: hi\n"
    )
    again = "[31/12/2023, 21:41:05] +491711234567: hello\n[31/12/2023, 21:42:05] jane doe: hi\n"
    assert _run(alice, acme, first).created == 2
    result = _run(alice, acme, again)
    assert (result.created, result.duplicates) == (0, 2)
