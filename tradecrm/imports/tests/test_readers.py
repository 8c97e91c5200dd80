"""Reading uploads: storing with limits, sniffing what a file is, encodings, delimiters, header
rows, spreadsheets through calamine, and every kind of bad file. No database."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrm.imports.readers import (
    CHUNK,
    FileRejected,
    cell_text,
    column_letter,
    find_header_row,
    open_table,
    sniff_delimiter,
    sniff_kind,
    store_upload,
)

FILES = Path(__file__).parent / "files"
MB = 1024 * 1024


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def table(tmp_path, data, name="f.csv", encoding="utf-8", **kwargs):
    return open_table(write(tmp_path, name, data, encoding), filename=name, **kwargs)


def rejected(func, *args, **kwargs) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        func(*args, **kwargs)
    return info.value


def message(exc: FileRejected) -> str:
    return " ".join(exc.messages)


def xlsx(path: Path, sheets: dict[str, list[tuple[int, int, object]]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, cells in sheets.items():
        ws = wb.add_worksheet(name)
        for r, c, v in cells:
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, v, date)
            else:
                ws.write(r, c, v)
    wb.close()
    return path


def ods(path: Path, rows: list[list[str]], sheet: str = "Kunden") -> Path:
    def cell(v):
        return '<table:table-cell office:value-type="string"><text:p>' + v + "</text:p></table:table-cell>"

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="{sheet}">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return path


# --- store_upload -------------------------------------------------------------------------------------


def test_store_upload_streams_to_disk_with_checksum_and_kind(tmp_path):
    data = b"Company,Country\nAcme,DE\n"
    upload = SimpleUploadedFile("leads.csv", data)
    dest = tmp_path / "job" / "upload"
    info = store_upload(upload, dest=dest, limit=MB)
    assert info["size"] == len(data) and info["kind"] == "csv"
    assert info["sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert dest.read_bytes() == data


def test_store_upload_refuses_declared_2gb_without_reading(tmp_path):
    class Huge:
        name = "archive.csv"
        size = 2 * 1024 * MB

        def read(self, n=-1):
            raise AssertionError("must not read")

    exc = rejected(store_upload, Huge(), dest=tmp_path / "x", limit=512 * MB)
    assert "“archive.csv” is larger than 512 MB" in message(exc)
    assert exc.code == "too_big" and not (tmp_path / "x").exists()


def test_store_upload_stops_a_stream_as_soon_as_it_passes_the_limit(tmp_path):
    class Endless:  # a 2 GB upload that does not say its size
        name = "big.csv"
        read_bytes = 0

        def read(self, n=-1):
            self.read_bytes += n
            return b"a,b\n" * (n // 4)

    stream = Endless()
    exc = rejected(store_upload, stream, dest=tmp_path / "x", limit=3 * MB)
    assert "larger than 3 MB" in message(exc)
    assert stream.read_bytes <= 3 * MB + CHUNK
    assert not (tmp_path / "x").exists()  # nothing half-stored


def test_store_upload_refuses_an_empty_file(tmp_path):
    exc = rejected(store_upload, io.BytesIO(b""), dest=tmp_path / "x", limit=MB)
    assert exc.code == "empty" and "empty" in message(exc)


@pytest.mark.parametrize(
    "head,code,words",
    [
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "binary", "program"),
        (b"MZ\x90\x00\x03" + b"\x00" * 60 + b"PE\x00\x00", "binary", "program"),
        (b"#!/bin/sh\nrm -rf /\n", "binary", "program"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "binary", "PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "binary", "PNG"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "binary", "unpack"),
        (bytes(range(256)) * 8, "binary", "binary"),
    ],
)
def test_sniff_refuses_programs_and_other_binaries(tmp_path, head, code, words):
    exc = rejected(store_upload, io.BytesIO(head), dest=tmp_path / "x", limit=MB)
    assert exc.code == code and words in message(exc)
    assert not (tmp_path / "x").exists()


def test_sniff_recognises_each_kind_from_the_bytes_not_the_name(tmp_path):
    book = xlsx(tmp_path / "a.bin", {"S": [(0, 0, "Company")]})
    assert sniff_kind(book) == "xlsx"
    assert sniff_kind(ods(tmp_path / "b.bin", [["Firma"]])) == "ods"
    assert sniff_kind(FILES / "customers.xls") == "xls"
    assert sniff_kind(write(tmp_path, "c.xls", "Company\tCountry\nAcme\tDE\n")) == "csv"  # text named .xls
    assert sniff_kind(write(tmp_path, "d.txt", "\ufeffBEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n")) == "vcf"
    assert sniff_kind(write(tmp_path, "e.csv", "Company\tCountry\r\n", "utf-16")) == "csv"
    # short magic numbers of other formats at the start of a text: still text
    assert sniff_kind(write(tmp_path, "f.csv", "BMW dealer,Country\nA,DE\n")) == "csv"
    assert sniff_kind(write(tmp_path, "g.csv", "MZ code,ID3 tag\n1,2\n")) == "csv"


def test_html_saved_as_xls_is_explained(tmp_path):
    path = write(
        tmp_path, "inquiries.xls", "<html><body><table><tr><td>Buyer</td></tr></table></body></html>"
    )
    exc = rejected(sniff_kind, path, filename="inquiries.xls")
    assert exc.code == "html" and "save it as XLSX or CSV" in message(exc)


def test_zip_that_is_no_spreadsheet(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("leads.csv", "a,b\n")
    assert "unpack it" in message(rejected(sniff_kind, path))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert "Word document" in message(rejected(sniff_kind, path))


def _patch_sizes(path: Path, uncompressed: int) -> None:
    """Makes every member of a ZIP declare `uncompressed` bytes, as a bomb's directory does."""
    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        data[at + 24 : at + 28] = struct.pack("<I", uncompressed)
        at += 4
    path.write_bytes(bytes(data))


def test_zip_bomb_by_declared_total_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(3):
            z.writestr(f"xl/worksheets/sheet{i}.xml", "<x/>")
    _patch_sizes(path, 0xFFFF0000)  # 4 × ~4 GB
    exc = rejected(store_upload, io.BytesIO(path.read_bytes()), dest=tmp_path / "x", limit=MB)
    assert exc.code == "zip_bomb" and "would unpack to" in message(exc)


def test_zip_bomb_by_ratio_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    _patch_sizes(path, 100 * MB)
    exc = rejected(sniff_kind, path, filename="bomb.xlsx")
    assert exc.code == "zip_bomb" and "times when unpacked" in message(exc)


def test_zip_bomb_with_overlapping_members_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>" * 10)
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[cd + 20 : cd + 24] = struct.pack("<I", len(data) * 3)  # claims more bytes than the file has
    path.write_bytes(bytes(data))
    assert rejected(sniff_kind, path).code == "zip_bomb"


def test_truncated_xlsx_is_refused_as_cut_off(tmp_path):
    book = xlsx(tmp_path / "full.xlsx", {"S": [(r, 0, f"row {r}") for r in range(200)]})
    cut = write(tmp_path, "cut.xlsx", book.read_bytes()[: book.stat().st_size // 2])
    exc = rejected(store_upload, io.BytesIO(cut.read_bytes()), dest=tmp_path / "x", limit=MB)
    assert exc.code == "truncated" and "cut" in message(exc)


def test_truncated_xls_is_refused_when_opened(tmp_path):
    data = (FILES / "customers.xls").read_bytes()
    path = write(tmp_path, "cut.xls", data[:1500])
    exc = rejected(open_table, path, filename="cut.xls")
    assert exc.code == "damaged" and "“cut.xls” could not be read as a spreadsheet" in message(exc)


def test_password_protected_workbook_is_explained(tmp_path):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le")
    exc = rejected(sniff_kind, write(tmp_path, "secret.xlsx", data))
    assert exc.code == "protected" and "password" in message(exc)


# --- encodings ----------------------------------------------------------------------------------------


def test_gb18030_with_chinese_headers(tmp_path):
    t = table(tmp_path, "公司名称,国家,电话\n宁波恒达贸易有限公司,中国,0574-87654321\n", encoding="gb18030")
    assert t.encoding == "gb18030" and t.headers == ["公司名称", "国家", "电话"]
    assert list(t.rows()) == [(2, ["宁波恒达贸易有限公司", "中国", "0574-87654321"])]


def test_utf16_as_excel_writes_unicode_text(tmp_path):
    data = codecs.BOM_UTF16_LE + "Company\tCountry\r\nMüller GmbH\t德国\r\n".encode("utf-16-le")
    t = table(tmp_path, data)
    assert (t.encoding, t.delimiter) == ("utf-16", "\t")
    assert list(t.rows()) == [(2, ["Müller GmbH", "德国"])]


def test_utf16_without_bom(tmp_path):
    t = table(tmp_path, "Company,Country\nAcme,DE\n".encode("utf-16-be"))
    assert t.encoding == "utf-16-be" and list(t.rows()) == [(2, ["Acme", "DE"])]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    t = table(tmp_path, "\ufeffCompany,Country\nAcme,DE\n")
    assert t.encoding == "utf-8-sig" and t.headers[0] == "Company"
    assert list(t.rows()) == [(2, ["Acme", "DE"])]


def test_windows_1252_semicolons_and_decimal_commas(tmp_path):
    t = table(tmp_path, "Firma;Land;Umsatz\nMüller GmbH;DE;1.234,50\nCafé Olé;FR;12,5\n", encoding="cp1252")
    assert (t.encoding, t.delimiter) == ("cp1252", ";")
    assert [r for _n, r in t.rows()] == [["Müller GmbH", "DE", "1.234,50"], ["Café Olé", "FR", "12,5"]]


def test_big5(tmp_path):
    t = table(tmp_path, "公司名稱,國家\n台灣貿易股份有限公司,台灣\n", encoding="big5")
    assert t.encoding == "big5" and list(t.rows()) == [(2, ["台灣貿易股份有限公司", "台灣"])]


def test_chosen_encoding_that_does_not_fit_names_the_line(tmp_path):
    path = write(tmp_path, "f.csv", "Company,Country\nAcme,DE\n宁波,中国\n", "gb18030")
    exc = rejected(open_table, path, filename="f.csv", encoding="utf-8")
    assert exc.code == "encoding" and "Line 3 of “f.csv” is not valid utf-8 text" in message(exc)


def test_utf8_file_with_one_bad_byte_names_the_line(tmp_path):
    data = "Company,Country\n宁波恒达,中国\nMüller,DE\n".encode() + b"Bad \xff byte,DE\n"
    exc = rejected(open_table, write(tmp_path, "f.csv", data), filename="f.csv")
    assert exc.code == "encoding" and "Line 4" in message(exc) and "CSV UTF-8" in message(exc)


def test_unknown_encoding_name(tmp_path):
    path = write(tmp_path, "f.csv", "a,b\n1,2\n")
    exc = rejected(open_table, path, filename="f.csv", encoding="klingon-8")
    assert "“klingon-8” is not an encoding we know" in message(exc)


def test_csv_cut_in_the_middle_of_a_character(tmp_path):
    data = "Company,Country\n宁波恒达,中国\n".encode()[:-3]  # "国\n" cut after its first byte
    exc = rejected(open_table, write(tmp_path, "f.csv", data), filename="f.csv")
    assert exc.code == "truncated" and "ends in the middle of a character" in message(exc)


def test_csv_cut_inside_a_quoted_cell(tmp_path):
    exc = rejected(table, tmp_path, 'Company,Notes\nAcme,"met at the fair\nand then\n')
    assert exc.code == "truncated" and "starts on row 2" in message(exc)


def test_binary_in_the_middle_of_a_text_file(tmp_path):
    data = b"Company,Country\n" + b"Acme,DE\n" * 2000 + b"\x00\x01\x02\x03garbage\n"
    exc = rejected(open_table, write(tmp_path, "f.csv", data), filename="f.csv")
    assert exc.code == "binary" and "Line 2002" in message(exc)


def test_empty_and_blank_csv(tmp_path):
    assert rejected(table, tmp_path, " \n\n ,, \n").code == "empty"


def test_a_quote_never_closed_far_into_a_big_file(tmp_path):
    filler = ("Acme,DE\n" * 10_000).encode()
    data = b"Company,Country\n" + filler + b'Broken,"never closed\n' + b"x" * 140_000 + b"\n"
    t = open_table(write(tmp_path, "f.csv", data), filename="f.csv")
    exc = rejected(lambda: list(t.rows()))
    assert exc.code == "malformed" and "quote" in message(exc) and "Row 10002" in message(exc)


# --- delimiters, header rows, rows --------------------------------------------------------------------


@pytest.mark.parametrize("d", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, d):
    text = d.join(["Company", "Country", "Notes"]) + "\n" + d.join(["Acme", "DE", "likes tea"]) + "\n"
    assert table(tmp_path, text).delimiter == d


def test_commas_inside_cells_do_not_fool_the_sniffer():
    text = 'Company;Notes;Country\n"Acme, Inc";"a, b, c";US\nB Ltd;x;GB\n'
    assert sniff_delimiter(text) == ";"
    assert sniff_delimiter("Name,Price\nA,1\nB,2\n") == ","
    assert sniff_delimiter("just one column\nvalue\n") == ","


def test_given_delimiter_and_header_row_win(tmp_path):
    t = table(tmp_path, "x;y\nCompany,Country\nAcme,DE\n", delimiter="\\t", header_row=2)
    assert t.delimiter == "\t" and t.header_row == 2 and t.headers == ["Company,Country"]


def test_header_below_title_rows_in_csv(tmp_path):
    text = (
        "2024 Canton Fair — visitors,,\nPrinted 2024-04-20,,\n,,\nCompany,Country,E-mail\nAcme,DE,a@acme.de\n"
    )
    t = table(tmp_path, text)
    assert t.header_row == 4 and t.headers == ["Company", "Country", "E-mail"]
    assert list(t.rows()) == [(5, ["Acme", "DE", "a@acme.de"])]


def test_header_without_known_names_is_the_first_full_row_of_words():
    rows = [["Report"], [], ["Foo", "Bar", "Baz"], ["1", "2", "3"]]
    assert find_header_row(rows) == 2
    assert find_header_row([["12", "13"], ["Alpha", "Beta"], ["1", "2"]]) == 1


def test_excel_sep_hint_line(tmp_path):
    t = table(tmp_path, "sep=;\nCompany;Notes\nAcme;a, b and c\n")
    assert (t.delimiter, t.header_row, t.headers) == (";", 2, ["Company", "Notes"])
    assert list(t.rows()) == [(3, ["Acme", "a, b and c"])]


def test_header_asked_for_far_down(tmp_path):
    t = table(tmp_path, "note\n" * 99 + "Company,Country\nAcme,DE\n", header_row=100)
    assert t.headers == ["Company", "Country"] and list(t.rows()) == [(101, ["Acme", "DE"])]


def test_header_without_data_rows(tmp_path):
    exc = rejected(table, tmp_path, "Company,Country\n\n")
    assert exc.code == "empty" and "no data rows below its header (row 1)" in message(exc)
    path = xlsx(tmp_path / "a.xlsx", {"S": [(0, 0, "Company"), (0, 1, "Country")]})
    assert rejected(open_table, path, filename="a.xlsx").code == "empty"


def test_header_row_beyond_the_file(tmp_path):
    exc = rejected(table, tmp_path, "Company\nAcme\n", header_row=40)
    assert exc.code == "header" and "Row 40 cannot be the header" in message(exc)


def test_empty_header_cells_are_named_by_column_letter(tmp_path):
    t = table(tmp_path, "Company,,Country\nAcme,x,DE\n")
    assert t.headers == ["Company", "Column B", "Country"]


def test_data_beyond_the_header_becomes_a_column(tmp_path):
    t = table(tmp_path, "Company,Country\nAcme,DE,extra\nB,GB,more\nC,FR\n")
    assert t.headers == ["Company", "Country", "Column C"]


def test_rows_are_padded_blank_rows_skipped_and_numbers_kept(tmp_path):
    text = 'Company,Country,Notes\nAcme,DE\n\n  ,  ,\n"B, Ltd",GB,"two\nlines"\nC,FR,x\n'
    t = table(tmp_path, text)
    assert list(t.rows()) == [
        (2, ["Acme", "DE", ""]),
        (5, ["B, Ltd", "GB", "two\nlines"]),
        (6, ["C", "FR", "x"]),
    ]
    assert t.total_rows == 3 and not t.total_estimated
    assert [n for n, _r in t.rows(start_after=5)] == [6]


def test_extra_filled_cells_are_reported_per_row(tmp_path):
    t = table(tmp_path, "Company,Country\n" + "A,DE\n" * 6 + "Acme, Inc,US\nB,GB,\n")
    assert t.headers == ["Company", "Country"]
    assert list(t.rows())[-2:] == [(8, ["Acme", " Inc"]), (9, ["B", "GB"])]
    assert list(t.row_problems) == [8] and "row 8 has 3 cells" in t.row_problems[8]


def test_total_rows_of_a_big_csv_is_an_estimate_from_line_breaks(tmp_path):
    data = "Company,Country\n" + "Acme Trading Company Limited,DE\n" * 3000
    t = table(tmp_path, data)
    assert t.total_estimated and t.total_rows == 3000
    assert sum(1 for _ in t.rows()) == 3000


# --- spreadsheets -------------------------------------------------------------------------------------


def test_xlsx_cells_become_text(tmp_path):
    path = xlsx(
        tmp_path / "a.xlsx",
        {
            "Leads": [
                (0, 0, "Visitors 2024"),
                (2, 0, "Company"), (2, 1, "Qty"), (2, 2, "Since"), (2, 3, "Price"), (2, 4, "Phone"), (2, 5, "OK"),
                (3, 0, "Acme"), (3, 1, 12), (3, 2, dt.date(2024, 3, 5)), (3, 3, 0.1 + 0.2), (3, 4, 8613812345678),
                (3, 5, True),
                (5, 0, "B"), (5, 3, 1.5),
            ]
        },
    )  # fmt: skip
    t = open_table(path, filename="a.xlsx")
    assert (t.kind, t.sheet, t.header_row) == ("xlsx", "Leads", 3)
    assert t.headers == ["Company", "Qty", "Since", "Price", "Phone", "OK"]
    assert list(t.rows()) == [
        (4, ["Acme", "12", "2024-03-05", "0.3", "8613812345678", "TRUE"]),
        (6, ["B", "", "", "1.5", "", ""]),
    ]
    assert [n for n, _r in t.rows(start_after=4)] == [6]


def test_xlsx_table_not_starting_in_column_a(tmp_path):
    path = xlsx(
        tmp_path / "a.xlsx", {"S": [(4, 3, "Company"), (4, 4, "Country"), (5, 3, "Acme"), (5, 4, "DE")]}
    )
    t = open_table(path, filename="a.xlsx")
    assert t.header_row == 5 and t.headers == ["Company", "Country"]
    assert list(t.rows()) == [(6, ["Acme", "DE"])]


def test_sheets_chosen_listed_and_missing(tmp_path):
    path = xlsx(
        tmp_path / "a.xlsx",
        {
            "Cover": [],
            "Leads": [(0, 0, "Company"), (1, 0, "Acme")],
            "Old": [(0, 0, "Company"), (1, 0, "Zeta")],
        },
    )
    t = open_table(path, filename="a.xlsx")
    assert t.sheet == "Leads" and t.sheets == ["Cover", "Leads", "Old"]  # the empty cover is passed over
    assert list(open_table(path, filename="a.xlsx", sheet="Old").rows()) == [(2, ["Zeta"])]
    exc = rejected(open_table, path, filename="a.xlsx", sheet="Nope")
    assert exc.code == "sheet" and "“Cover”, “Leads”, “Old”" in message(exc)
    assert rejected(open_table, path, filename="a.xlsx", sheet="Cover").code == "empty"


def test_a_hidden_lookup_sheet_is_not_taken_for_the_data(tmp_path):
    path = tmp_path / "h.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    lookup = wb.add_worksheet("Lookup")
    lookup.write_column(0, 0, ["code", "x"])
    lookup.hide()
    data = wb.add_worksheet("Data")
    data.write_column(0, 0, ["Company", "Acme"])
    data.activate()
    wb.close()
    t = open_table(path, filename="h.xlsx")
    assert (t.sheet, t.sheets) == ("Data", ["Lookup", "Data"])


def test_workbook_with_only_empty_sheets(tmp_path):
    path = xlsx(tmp_path / "a.xlsx", {"A": [], "B": []})
    assert rejected(open_table, path, filename="a.xlsx").code == "empty"


def test_xls_with_chinese_headers_below_a_title(tmp_path):
    t = open_table(FILES / "customers.xls", filename="customers.xls")
    assert (t.kind, t.sheet, t.header_row) == ("xls", "客户名单", 3)
    assert t.headers == ["公司名称", "国家", "电话", "合作时间", "年采购额(万美元)"]
    assert list(t.rows()) == [
        (4, ["宁波恒达贸易有限公司", "中国", "+86 574 8765 4321", "2021-03-05", "12"]),
        (5, ["Acme GmbH", "DE", "030 1234567", "2019-11-30", "250.5"]),
    ]


def test_ods(tmp_path):
    path = ods(tmp_path / "k.ods", [["Firma", "Land"], ["Müller GmbH", "DE"]])
    t = open_table(path, filename="k.ods")
    assert (t.kind, t.sheet, t.headers) == ("ods", "Kunden", ["Firma", "Land"])
    assert list(t.rows()) == [(2, ["Müller GmbH", "DE"])]


@pytest.mark.parametrize(
    "value,text",
    [
        (None, ""), ("x", "x"), (12.0, "12"), (0.1 + 0.2, "0.3"), (1.5, "1.5"), (-3, "-3"), (True, "TRUE"),
        (1e20, "100000000000000000000"), (1.23e-7, "0.000000123"), (float("nan"), ""),
        (dt.date(2024, 3, 5), "2024-03-05"), (dt.datetime(2024, 3, 5), "2024-03-05"),
        (dt.datetime(2024, 3, 5, 10, 30), "2024-03-05 10:30:00"), (dt.time(9, 5), "09:05:00"),
    ],
)  # fmt: skip
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# --- whatever the bytes, a FileRejected or a table; never a crash -------------------------------------

_PIECES = st.sampled_from(
    [b",", b";", b"\t", b"\n", b"\r\n", b'"', b"Company", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\xe5\xae",
     "公司名称".encode(), "国家".encode("gbk"), b"=1+2", b"PK\x03\x04", b"BEGIN:VCARD\n", b"END:VCARD\n", b"  "]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.lists(_PIECES, max_size=40).map(b"".join)))
def test_any_bytes_give_a_table_or_a_file_rejected(tmp_path, data):
    path = tmp_path / "fuzz"
    path.write_bytes(data)
    try:
        kind = sniff_kind(path)
        t = open_table(path, filename="fuzz")
    except FileRejected as exc:
        assert exc.messages and exc.messages[0]
        return
    assert kind == t.kind
    try:
        for _n, cells in t.rows():
            assert len(cells) == len(t.headers) and all(isinstance(c, str) for c in cells)
    except FileRejected:
        pass
