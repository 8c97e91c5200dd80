"""vCard 2.1 / 3.0 / 4.0 files read as a table of contacts. No database."""

from __future__ import annotations

import codecs
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrm.imports.mapping import auto_map
from tradecrm.imports.readers import FileRejected, open_table, store_upload
from tradecrm.imports.vcard import parse_vcards

V21_QP = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=BC=9F;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=E4=BC=9F\r\n"
    # a soft line break inside a quoted-printable value: the next line does not start with a space
    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=AE=81=E6=B3=A2=E6=81=92=E8=BE=BE=E8=B4=B8=E6=98=93=E6=9C=\r\n"
    "=89=E9=99=90=E5=85=AC=E5=8F=B8\r\n"
    "TITLE;ENCODING=QUOTED-PRINTABLE:Sales =\r\nManager\r\n"
    "TEL;CELL;VOICE:+86 138 1234 5678\r\n"
    "TEL;WORK;FAX:0574-8765 4321\r\n"
    "EMAIL;PREF;INTERNET:zhang@hengda.cn\r\n"
    "EMAIL;INTERNET:hengda@163.com\r\n"
    "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n"
    " AAAAAAAAAAAAAA\r\n"
    "\r\n"
    "END:VCARD\r\n"
)

V30 = (
    "BEGIN:VCARD\n"
    "VERSION:3.0\n"
    "N:Müller;Hans;Peter;Dr.;\n"
    "FN:Dr. Hans Peter Müller\n"
    "ORG:Acme GmbH;Einkauf\n"
    "TITLE:Head of Purchasing\\, EMEA\n"
    "EMAIL;TYPE=INTERNET,WORK:hans@acme.de\n"
    "TEL;TYPE=WORK,VOICE:+49 30 1234567\n"
    "TEL;TYPE=CELL:+49 170 1234567\n"
    "item1.URL:https://www.linkedin.com/in/hans-mueller\n"
    "item2.URL:https://acme.de\n"
    "ADR;TYPE=WORK:;;Hauptstr. 1;Berlin;;10115;Germany\n"
    "NOTE:Met at Canton Fair\\, booth 12.1\\nprefers tea. This note is long enough that an exp\n"
    " orter's phone folds it.\n"
    "BDAY:1975-04-12\n"
    "X-SKYPE:hans.mueller\n"
    "X-WECHAT:hansm\n"
    "END:VCARD\n"
)

V40 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Ana García\r\n"
    "N:García;Ana;;;\r\n"
    'TEL;VALUE=uri;TYPE="cell,voice":tel:+34-600-123-456\r\n'
    "EMAIL:ana@ejemplo.es,ana.garcia@gmail.com\r\n"
    "IMPP;X-SERVICE-TYPE=Skype:skype:ana.g\r\n"
    "X-SOCIALPROFILE;TYPE=linkedin:https://linkedin.com/in/anag\r\n"
    "BDAY:--0412\r\n"
    "END:VCARD\r\n"
)


def test_vcard_21_quoted_printable_soft_breaks_and_several_tel_email():
    (card,) = parse_vcards(V21_QP.encode())
    assert (card.full_name, card.last_name, card.first_name) == ("张伟", "张", "伟")
    assert card.organization == "宁波恒达贸易有限公司"
    assert card.title == "Sales Manager"
    assert card.phones == ["+86 138 1234 5678", "0574-8765 4321"]
    assert card.emails == ["zhang@hengda.cn", "hengda@163.com"]


def test_vcard_21_raw_gb2312_bytes_marked_by_charset():
    data = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=GB2312:李娜\r\nORG;CHARSET=GB2312:义乌小商品;外贸部\r\nEND:VCARD\r\n"
    (card,) = parse_vcards(data.encode("gb18030"))
    assert (card.full_name, card.organization, card.department) == ("李娜", "义乌小商品", "外贸部")


def test_gbk_quoted_printable():
    qp = "".join(f"={b:02X}" for b in "王芳".encode("gbk"))
    (card,) = parse_vcards(
        f"BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=GBK;ENCODING=QUOTED-PRINTABLE:{qp}\nEND:VCARD\n".encode()
    )
    assert card.full_name == "王芳"


def test_vcard_30_folding_escapes_groups_address_and_messengers():
    (card,) = parse_vcards(V30.encode())
    assert card.full_name == "Dr. Hans Peter Müller"
    assert (card.first_name, card.last_name) == ("Hans Peter", "Müller")
    assert (card.organization, card.department) == ("Acme GmbH", "Einkauf")
    assert card.title == "Head of Purchasing, EMEA"
    assert card.phones == ["+49 30 1234567", "+49 170 1234567"]
    assert card.linkedin == "https://www.linkedin.com/in/hans-mueller" and card.website == "https://acme.de"
    assert (card.address, card.country) == ("Hauptstr. 1, Berlin, 10115", "Germany")
    assert card.notes == [
        "Met at Canton Fair, booth 12.1\nprefers tea. This note is long enough that an exporter's phone folds it."
    ]
    assert (card.birthday, card.skype, card.wechat) == ("1975-04-12", "hans.mueller", "hansm")


def test_vcard_40_uris_impp_and_a_birthday_without_year():
    (card,) = parse_vcards(V40.encode())
    assert card.phones == ["+34-600-123-456"]
    assert card.emails == ["ana@ejemplo.es", "ana.garcia@gmail.com"]
    assert (card.skype, card.linkedin, card.birthday) == ("ana.g", "https://linkedin.com/in/anag", "")


def test_a_file_mixing_utf8_and_gbk_cards():
    data = V30.encode() + "BEGIN:VCARD\nFN:陈明\nEND:VCARD\n".encode("gbk")
    names = [c.full_name for c in parse_vcards(data)]
    assert names == ["Dr. Hans Peter Müller", "陈明"]


def test_reopening_with_the_detected_encoding_reads_the_same(tmp_path):
    path = tmp_path / "mixed.vcf"
    path.write_bytes(V30.encode() + "BEGIN:VCARD\nFN:陈明\nEND:VCARD\n".encode("gbk"))
    first = open_table(path, filename="mixed.vcf")
    again = open_table(path, filename="mixed.vcf", encoding=first.encoding)
    assert first.encoding == "gb18030"
    assert (
        [r[0] for _n, r in again.rows()]
        == [r[0] for _n, r in first.rows()]
        == ["Dr. Hans Peter Müller", "陈明"]
    )


def test_utf16_vcf_as_outlook_writes_it(tmp_path):
    path = tmp_path / "contacts.vcf"
    path.write_bytes(codecs.BOM_UTF16_LE + V30.encode("utf-16-le"))
    t = open_table(path, filename="contacts.vcf")
    assert t.kind == "vcf" and [r[0] for _n, r in t.rows()] == ["Dr. Hans Peter Müller"]


def test_vcf_as_a_table_maps_to_contacts(tmp_path):
    path = tmp_path / "cards.vcf"
    path.write_bytes((V21_QP + V30 + V40).encode())
    info = store_upload(io.BytesIO(path.read_bytes()), dest=tmp_path / "stored", limit=1 << 20)
    assert info["kind"] == "vcf"
    t = open_table(tmp_path / "stored", filename="cards.vcf")
    assert (t.header_row, t.total_rows) == (0, 3)
    assert t.headers[:8] == ["Full name", "First name", "Last name", "Company", "Department", "Job title",
                             "E-mail 1", "E-mail 2"]  # fmt: skip
    rows = list(t.rows())
    assert [n for n, _r in rows] == [1, 2, 3]  # card numbers
    assert all(len(r) == len(t.headers) for _n, r in rows)
    first = dict(zip(t.headers, rows[0][1], strict=True))
    assert first["Company"] == "宁波恒达贸易有限公司" and first["Phone 2"] == "0574-8765 4321"
    assert [n for n, _r in t.rows(start_after=2)] == [3]
    fields = set(auto_map(t.headers, entity="contacts", source="vcard").values())
    assert {"name", "first_name", "last_name", "company_name", "title", "emails", "phones", "whatsapp", "wechat",
            "skype", "linkedin", "company_website", "company_country", "birthday", "notes"} <= fields  # fmt: skip


def test_a_card_inside_a_card_is_skipped():
    data = (
        "BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Assistant\nTEL:1\nEND:VCARD\n"
        "TEL:+1 555 0100\nEND:VCARD\n"
    )
    (card,) = parse_vcards(data.encode())
    assert (card.full_name, card.phones) == ("Boss", ["+1 555 0100"])


def test_truncated_vcf_is_refused(tmp_path):
    path = tmp_path / "cut.vcf"
    path.write_bytes((V30 + V40[:60]).encode())
    with pytest.raises(FileRejected) as info:
        open_table(path, filename="cut.vcf")
    assert info.value.code == "truncated" and "card 2 (from line 19)" in info.value.messages[0]


def test_vcf_without_cards(tmp_path):
    path = tmp_path / "x.vcf"
    path.write_bytes(b"BEGIN:VCARD\nEND:VCARD\n")
    with pytest.raises(FileRejected) as info:
        open_table(path, filename="x.vcf")
    assert info.value.code == "empty"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["BEGIN:VCARD", "END:VCARD", "FN:A", "N:;;", "TEL;CELL:+1", "EMAIL:a@b", "=E5=BC", "NOTE;ENCODING=QUOTED-PRINTABLE:x=",
             " folded", "ORG:;", "BDAY:--", "FN;CHARSET=klingon:x", "FN;ENCODING=B:!!", "X-SOCIALPROFILE:", ":", ""]
        ),
        max_size=30,
    ).map("\r\n".join)
)  # fmt: skip
def test_any_card_text_gives_cards_or_a_file_rejected(text):
    try:
        cards = parse_vcards(text.encode())
    except FileRejected as exc:
        assert exc.code == "truncated"
        return
    assert all(isinstance(c.full_name, str) for c in cards)
