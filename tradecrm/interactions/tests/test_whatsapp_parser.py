"""Reading WhatsApp exports: the formats Android and iOS write, continuation lines, system lines,
media markers, the day/month order and the refusal of files that are not exports. No database."""

import datetime as dt
import io
import zipfile

import pytest

from tradecrm.interactions.whatsapp import (
    DMY,
    MDY,
    WhatsAppFormatError,
    WhatsAppImportError,
    decode_text,
    open_export,
    parse_chat,
)

LRM, NNBSP = "\u200e", "\u202f"

ANDROID_US = (
    f"12/31/23, 9:41{NNBSP}PM - Messages and calls are end-to-end encrypted. No one outside of this chat, "
    "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    f"12/31/23, 9:41{NNBSP}PM - Jane Doe: Hi, did you get our PO?\n"
    "Quantity: 2 x 40HQ\n"
    "\n"
    "Thanks\n"
    f"1/1/24, 12:05{NNBSP}AM - Alice Wang: Yes, confirming today\n"
    f"1/1/24, 12:06{NNBSP}PM - Alice Wang: <Media omitted>\n"
    f"1/1/24, 12:07{NNBSP}PM - Jane Doe added Bob\n"
)

ANDROID_EU = (
    "31/12/2023, 21:41 - Jane Doe: Hello\n"
    "01/01/2024, 08:00 - +49 171 1234567: Happy new year\n"
    "01/01/2024, 08:02 - Alice Wang: IMG-20240101-WA0001.jpg (file attached)\n"
    "our new catalogue\n"
)

IOS = (
    f"[31/12/2023, 21:41:05] Jane Doe: {LRM}Messages and calls are end-to-end encrypted. No one outside of "
    "this chat, not even WhatsApp, can read or listen to them.\n"
    "[31/12/2023, 21:41:06] \u202a+49 171 1234567\u202c: Price for 500 pcs?\n"
    f"{LRM}[31/12/2023, 21:42:00] Alice Wang: {LRM}<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>\n"
    f"[31/12/2023, 21:43:00] Alice Wang: {LRM}image omitted\n"
    f"[31/12/2023, 21:44:00] Jane Doe: {LRM}Missed voice call\n"
    "[31/12/2023, 21:45:00] Jane Doe: ok <This message was edited>\n"
)

IOS_12H = (
    f"[12/31/23, 9:41:05{NNBSP}PM] Jane Doe: Good evening\n"
    f"[1/1/24, 12:00:00{NNBSP}AM] Jane Doe: Midnight\n"
    f"[1/1/24, 12:30:00{NNBSP}PM] Alice Wang: Noon\n"
)

GERMAN = "31.12.23, 21:41 - Hans Müller: Guten Abend\n01.01.24, 08:00 - Alice Wang: Frohes neues Jahr\n"


def test_android_12h_us():
    chat = parse_chat(ANDROID_US)
    assert (chat.format, chat.date_order, chat.date_order_ambiguous) == ("android", MDY, False)
    talk = chat.conversation
    assert [(m.at, m.sender) for m in talk] == [
        (dt.datetime(2023, 12, 31, 21, 41), "Jane Doe"),
        (dt.datetime(2024, 1, 1, 0, 5), "Alice Wang"),
        (dt.datetime(2024, 1, 1, 12, 6), "Alice Wang"),
    ]
    assert talk[0].text == "Hi, did you get our PO?\nQuantity: 2 x 40HQ\n\nThanks"
    assert talk[2].media_omitted and talk[2].text == ""
    assert chat.system_lines == 2  # the encryption notice and "Jane Doe added Bob"
    assert [m.line for m in chat.messages] == [1, 2, 6, 7, 8]


def test_android_24h_eu_with_attached_file_and_caption():
    chat = parse_chat(ANDROID_EU)
    assert (chat.format, chat.date_order, chat.date_order_ambiguous) == ("android", DMY, False)
    last = chat.messages[-1]
    assert last.at == dt.datetime(2024, 1, 1, 8, 2)
    assert (last.media, last.text) == ("IMG-20240101-WA0001.jpg", "our new catalogue")
    assert chat.messages[1].sender == "+49 171 1234567"


def test_ios_bracketed_with_invisible_marks():
    chat = parse_chat("\ufeff" + IOS)
    assert (chat.format, chat.date_order) == ("ios", DMY)
    talk = chat.conversation
    assert [m.sender for m in talk] == ["+49 171 1234567", "Alice Wang", "Alice Wang", "Jane Doe"]
    assert talk[0].at == dt.datetime(2023, 12, 31, 21, 41, 6)
    assert talk[1].media == "00000012-PHOTO-2023-12-31-21-41-05.jpg" and talk[1].text == ""
    assert talk[2].media_omitted
    assert talk[3].text == "ok"  # the edit marker goes
    assert chat.system_lines == 2  # the encryption notice and the missed call
    assert all(LRM not in m.text and "\u202a" not in m.sender for m in chat.messages)


def test_ios_12h_clock_midnight_and_noon():
    chat = parse_chat(IOS_12H)
    assert chat.date_order == MDY
    assert [m.at for m in chat.messages] == [
        dt.datetime(2023, 12, 31, 21, 41, 5),
        dt.datetime(2024, 1, 1, 0, 0),
        dt.datetime(2024, 1, 1, 12, 30),
    ]


def test_german_dotted_dates():
    chat = parse_chat(GERMAN)
    assert chat.date_order == DMY
    assert [(m.at, m.sender, m.text) for m in chat.messages] == [
        (dt.datetime(2023, 12, 31, 21, 41), "Hans Müller", "Guten Abend"),
        (dt.datetime(2024, 1, 1, 8, 0), "Alice Wang", "Frohes neues Jahr"),
    ]


def test_year_first_dates_and_crlf():
    chat = parse_chat("2023-12-31, 21:41 - Jane: a\r\n2024-01-02, 08:00 - Jane: b\r\nmore\r\n")
    assert chat.date_order == "YMD"
    assert [(m.at.date(), m.text) for m in chat.messages] == [
        (dt.date(2023, 12, 31), "a"),
        (dt.date(2024, 1, 2), "b\nmore"),
    ]


def test_ambiguous_dates_use_the_default_and_say_so():
    text = "01/02/24, 10:00 - Jane: a\n03/04/24, 11:00 - Jane: b\n"
    chat = parse_chat(text)
    assert (chat.date_order, chat.date_order_ambiguous) == (DMY, True)
    assert chat.messages[0].at.date() == dt.date(2024, 2, 1)
    chat = parse_chat(text, default_order=MDY)
    assert (chat.date_order, chat.date_order_ambiguous) == (MDY, True)
    assert chat.messages[0].at.date() == dt.date(2024, 1, 2)
    forced = parse_chat(text, date_order=MDY)
    assert (forced.date_order, forced.date_order_ambiguous) == (MDY, False)


def test_group_subject_with_colon_is_a_system_line():
    chat = parse_chat(
        '1/2/24, 10:00 - Jane: hi\n1/2/24, 10:01 - Jane changed the subject from "A" to "Re: B"\n'
    )
    assert chat.system_lines == 1 and len(chat.conversation) == 1


def test_a_line_that_only_looks_like_a_date_is_a_continuation():
    chat = parse_chat("[31/12/2023, 21:41:05] Jane: see below\n31/12/2023, 21:41 - not a new message\n")
    assert chat.messages[0].text == "see below\n31/12/2023, 21:41 - not a new message"


@pytest.mark.parametrize(
    ("text", "line", "content"),
    [
        ("Chat with Jane\n12/31/23, 9:41 PM - Jane: hi\n", 1, "Chat with Jane"),
        ("\n\n  \nhello there\n", 4, "hello there"),
        ("31/12/2023, 21:41 - Jane: a\n32/01/2024, 10:00 - Jane: b\n", 2, "32/01/2024, 10:00 - Jane: b"),
        ("13/12/2023, 21:41 - Jane: a\n12/13/2023, 10:00 - Jane: b\n", 2, "12/13/2023, 10:00 - Jane: b"),
        ("12/30/23, 13:41 PM - Jane: a\n", 1, "12/30/23, 13:41 PM - Jane: a"),
        ("31/02/2023, 10:00 - Jane: a\n", 1, "31/02/2023, 10:00 - Jane: a"),
    ],
)
def test_unreadable_line_is_named(text, line, content):
    with pytest.raises(WhatsAppFormatError) as err:
        parse_chat(text)
    assert (err.value.line, err.value.content) == (line, content)


def test_empty_file_is_refused():
    with pytest.raises(WhatsAppFormatError) as err:
        parse_chat("\ufeff\n  \n")
    assert err.value.code == "empty"


def test_invalid_utf8_names_its_line():
    with pytest.raises(WhatsAppFormatError) as err:
        decode_text(b"31/12/2023, 21:41 - Jane: ok\n31/12/2023, 21:42 - Jane: caf\xe9\n")
    assert err.value.line == 2 and err.value.code == "encoding"
    assert decode_text("\ufeffhi".encode()) == "hi"
    assert decode_text(b"a\x00b") == "ab"  # PostgreSQL refuses NUL in text
    assert decode_text("31/12/2023, 21:41 - a: b\n".encode("utf-16")) == "31/12/2023, 21:41 - a: b\n"


def _zip(members: dict[str, bytes], **kw) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, **kw) as z:
        for name, data in members.items():
            z.writestr(name, data)
    buf.seek(0)
    return buf


def test_zip_finds_the_chat_and_the_media_and_skips_unsafe_paths():
    export = open_export(
        _zip(
            {
                "WhatsApp Chat with Jane Doe.txt": ANDROID_EU.encode(),
                "IMG-20240101-WA0001.jpg": b"\xff\xd8\xff\xe0jpeg",
                "../evil.jpg": b"x",
                "__MACOSX/._IMG.jpg": b"x",
            }
        )
    )
    assert parse_chat(decode_text(export.chat)).messages[-1].media == "IMG-20240101-WA0001.jpg"
    assert set(export.media) == {"IMG-20240101-WA0001.jpg"}
    assert export.read_media("IMG-20240101-WA0001.jpg", limit=100) == b"\xff\xd8\xff\xe0jpeg"
    assert export.read_media("IMG-20240101-WA0001.jpg", limit=3) is None
    ios = open_export(_zip({"_chat.txt": IOS.encode(), "notes.txt": b"x"}))
    assert ios.chat == IOS.encode() and "notes.txt" in ios.media


def test_plain_text_upload():
    assert open_export(io.BytesIO(GERMAN.encode())).chat == GERMAN.encode()


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"photo.jpg": b"x"}, "no_chat"),
        ({"_chat.txt": b"a", "bomb.bin": b"\0" * (3 * 1024 * 1024)}, "zip_bomb"),
    ],
)
def test_zip_refusals(members, code):
    with pytest.raises(WhatsAppImportError) as err:
        open_export(_zip(members))
    assert err.value.code == code


def test_zip_member_count_is_capped(monkeypatch):
    from tradecrm.interactions import whatsapp

    monkeypatch.setattr(whatsapp, "ZIP_MAX_MEMBERS", 3)
    with pytest.raises(WhatsAppImportError) as err:
        open_export(_zip({f"{i}.jpg": b"x" for i in range(4)} | {"_chat.txt": b"x"}))
    assert err.value.code == "zip_members"


def test_broken_zip():
    with pytest.raises(WhatsAppImportError) as err:
        open_export(io.BytesIO(b"PK\x03\x04garbage"))
    assert err.value.code == "bad_zip"


def test_chinese_phones_year_first_with_chinese_clock_and_markers():
    android = (
        "2023/12/31 下午9:41 - 王经理: 你好，报价收到了吗？\n"
        "2024/1/1 上午8:00 - Alice: <省略影音内容>\n"
        "2024/1/1 中午12:30 - Alice: IMG-20240101-WA0002.jpg (文件已附加)\n"
        "2024/1/1 中午1:05 - 王经理: 好的\n"
        "2024/1/1 晚上11:59 - 王经理: 此消息已删除\n"
    )
    chat = parse_chat(android)
    assert chat.date_order == "YMD"
    assert [m.at.strftime("%Y-%m-%d %H:%M") for m in chat.messages] == [
        "2023-12-31 21:41",
        "2024-01-01 08:00",
        "2024-01-01 12:30",
        "2024-01-01 13:05",
        "2024-01-01 23:59",
    ]
    assert chat.messages[1].media_omitted and chat.messages[2].media == "IMG-20240101-WA0002.jpg"
    assert chat.messages[4].system
    ios = parse_chat(
        f"[2023/12/31 21:41:05] 王经理: {LRM}<附件：00000012-PHOTO.jpg>\n[2023/12/31 21:42:05] 王经理: {LRM}图片已忽略\n"
    )
    assert ios.messages[0].media == "00000012-PHOTO.jpg" and ios.messages[1].media_omitted
