"""The PDF engine (documents/pdf.py), its tag library and the base layout.

PDFs are rendered a few times per module only (a one-page document costs ~50–250 ms): the
fixtures below are module-scoped and several tests read the same bytes."""

import http.server
import re
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.template import TemplateSyntaxError
from django.utils import translation
from PIL import Image

from tradecrm.documents import pdf
from tradecrm.documents.templatetags import documents_pdf as tags
from tradecrm.documents.tests import pdfcheck

BASE = "documents/pdf/base.html"
SMALL = """{% load documents_pdf %}<html><head><style>
@page { size: A6; margin: 10mm }
html { font-family: "Noto Sans CJK SC", sans-serif; font-size: 10pt }
</style></head><body><h1>{% bi "Phone" %}</h1><p>报价单 Quotation {{ doc.number }}</p>{{ extra|safe }}</body></html>"""


def _lines(n):
    return [
        {"no": i, "sku": f"SKU-{i}", "name": f"Lamp {i}", "name_zh": f"台灯 {i}", "qty": "10", "unit": "pcs",
         "unit_price": "1.5", "amount": "15.00"}
        for i in range(1, n + 1)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def sample_pdf():
    """The base layout with every block filled, bilingual."""
    return pdf.render_pdf(BASE, pdf.sample_context(), language="bilingual")


MINIMAL = {
    "seller": {"name": "Brightway Lighting", "name_zh": "明途照明"},
    "buyer": {"name": "Lumen Supply"},
    "doc": {"title": "Quotation", "number": "QT-2026-0007", "date": "2026-03-04", "currency": "USD"},
    "totals": {"total": "600.00"},
}


@pytest.fixture(scope="module")
def long_pdf():
    """A table longer than one page: 32 short lines on A5 (a child template may change the page)."""
    source = '{% extends "documents/pdf/base.html" %}{% block style %}@page { size: A5 }{% endblock %}'
    return pdf.render_pdf(None, {**MINIMAL, "lines": _lines(32)}, template_source=source)


# --- rendering ---------------------------------------------------------------------------------


def test_bilingual_document_has_both_scripts_drawn_with_real_glyphs(sample_pdf):
    text = pdfcheck.pdf_text(sample_pdf)
    assert "Ningbo Brightway Lighting Co., Ltd." in text
    assert "宁波明途照明有限公司" in text
    assert "LED tube T8 18W 1200 mm / LED灯管" in text  # the line's Chinese name beside the English one
    assert "Total amount 总金额" in text and "$8,313.00" in text  # the bilingual label and the total
    pdfcheck.assert_cjk_glyphs_rendered(sample_pdf, "宁波明途照明")
    assert pdfcheck.page_count(sample_pdf) == 1
    assert "Page 1 of 1" in text


def test_chinese_document_prints_the_chinese_names_only():
    data = pdf.render_pdf(BASE, pdf.sample_context(), language="zh-hans")
    text = pdfcheck.pdf_text(data)
    assert text.startswith("宁波明途照明有限公司\n浙江省宁波市江南路88号")  # the letterhead in Chinese
    assert "LED灯管 T8 18瓦" in text and "LED tube" not in text
    assert "电话" in text  # {% bi "Phone" %} in Chinese
    pdfcheck.assert_cjk_glyphs_rendered(data, "宁波明途")


def test_long_table_breaks_pages_repeats_its_header_and_numbers_pages(long_pdf):
    pages = pdfcheck.page_texts(long_pdf)
    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0] and "Page 2 of 2" in pages[1]
    assert all("Description" in page and "Unit price" in page for page in pages)  # thead repeated
    assert "SKU-1 " in pages[0] and "SKU-32 " in pages[1]
    assert all("QT-2026-0007" in page for page in pages)  # the number in every footer


def test_small_pdf_is_fast():
    """CPU time, best of 3: the machine running the tests is shared, wall time is noisy."""
    pdf.render_pdf(None, {}, template_source=SMALL)  # WeasyPrint and the fonts loaded
    timings = []
    for _ in range(3):
        start = time.process_time()
        data = pdf.render_pdf(None, {"doc": {"number": "Q-1"}}, template_source=SMALL)
        timings.append(time.process_time() - start)
    assert pdfcheck.page_count(data) == 1
    assert min(timings) < 0.15, f"a one-page PDF took {min(timings) * 1000:.0f} ms of CPU"


def test_glyph_check_fails_on_tofu():
    """With no CJK font, WeasyPrint draws .notdef boxes yet keeps the right text layer: the
    extracted text passes, the glyph check must not."""
    html = pdf.render_html(None, {}, template_source=SMALL)
    with pdfcheck.latin_only_font_config() as latin_only:
        tofu = pdf.html_to_pdf(html, font_config=latin_only)
    assert "报价单" in pdfcheck.pdf_text(tofu)
    with pytest.raises(AssertionError, match="same shape"):
        pdfcheck.assert_cjk_glyphs_rendered(tofu, "报价单")
    pdfcheck.assert_cjk_glyphs_rendered(pdf.html_to_pdf(html), "报价单")  # same HTML, real font


def test_glyph_check_fails_when_the_text_is_missing(sample_pdf):
    with pytest.raises(AssertionError, match="not in the PDF"):
        pdfcheck.assert_cjk_glyphs_rendered(sample_pdf, "形式发票")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        pdf.render_html(BASE, {}, language="fr")


# --- no network, only our files ----------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Recorder.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_rendering_fetches_nothing_over_http():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        extra = f'<img src="{url}/logo.png"><link rel="stylesheet" href="{url}/x.css"><img src="file:///etc/passwd">'
        data = pdf.render_pdf(None, {"extra": extra}, template_source=SMALL)
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.requests == []
    assert pdfcheck.page_count(data) == 1 and pdfcheck.image_count(data) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/logo.png",
        "https://example.com/logo.png",
        "ftp://example.com/logo.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file://otherhost/static/css/app.css",
        "file:///static/../../etc/passwd",
        "file:///static/js/app.js",  # a static file, but not a kind a PDF needs
    ],
)
def test_url_fetcher_refuses(url):
    assert pdf.resolve_local_url(url) is None
    with pytest.raises(ValueError, match="refused"):
        pdf.url_fetcher()(url)


@pytest.fixture
def media(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    (tmp_path / "media" / "letterhead").mkdir(parents=True)
    (tmp_path / "media" / "attachments").mkdir()
    Image.new("RGB", (8, 4), "navy").save(tmp_path / "media" / "letterhead" / "logo.png")
    Image.new("RGB", (8, 4), "red").save(tmp_path / "media" / "attachments" / "contract.png")
    return tmp_path / "media"


def test_url_fetcher_serves_static_files_and_letterhead_images_only(media):
    assert pdf.resolve_local_url("file:///static/css/app.css") == (
        Path(pdf.settings.BASE_DIR) / "static/css/app.css"
    )
    assert pdf.resolve_local_url("file:///media/letterhead/logo.png") == media / "letterhead" / "logo.png"
    assert (
        pdf.resolve_local_url((media / "letterhead" / "logo.png").as_uri())
        == media / "letterhead" / "logo.png"
    )
    # other customers' attachments are in media too: never
    assert pdf.resolve_local_url("file:///media/attachments/contract.png") is None
    assert pdf.resolve_local_url("file:///media/letterhead/../attachments/contract.png") is None
    assert pdf.resolve_local_url((media / "attachments" / "contract.png").as_uri()) is None
    (media / "letterhead" / "link.png").symlink_to(media / "attachments" / "contract.png")
    assert pdf.resolve_local_url("file:///media/letterhead/link.png") is None


def test_letterhead_logo_is_embedded(media):
    ctx = {**MINIMAL, "seller": {"name": "Brightway", "logo": "letterhead/logo.png"}}  # as snapshots store it
    data = pdf.render_pdf(BASE, ctx, language="en")
    assert pdfcheck.image_count(data) == 1


# --- admin-edited templates --------------------------------------------------------------------

CHILD = """{% extends "documents/pdf/base.html" %}{% load documents_pdf i18n %}
{% block doc_title %}{% bi "Quotation" %}{% endblock %}"""


def test_check_accepts_a_child_of_the_base_layout_and_the_layout_itself():
    assert pdf.check_template_source(CHILD) == []
    source = (Path(pdf.__file__).parent / "templates" / BASE).read_text()
    assert pdf.check_template_source(source) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{% load reach %}x", "Line 1: the tag library “reach” cannot be used"),
        ("ok\n{% load documents_pdf humanize %}", "Line 2: the tag library “humanize” cannot be used"),
        ("{% load static from something_else %}", "“something_else” cannot be used"),
        ('{% include "/etc/passwd" %}', "may only use templates under “documents/pdf/”, not “/etc/passwd”"),
        ('{% include "documents/pdf/../../base.html" %}', "may only use templates under"),
        ('{% extends "base.html" %}', "{% extends %} may only use templates under"),
        ("{% include template_name %}", "{% include %} must name a template in quotes"),
        ("{% debug %}", "{% debug %} cannot be used"),
    ],
)
def test_check_refuses(source, expected):
    errors = pdf.check_template_source(source)
    assert len(errors) == 1 and expected in errors[0], errors


def test_check_reports_syntax_errors_with_their_line():
    errors = pdf.check_template_source("<p>\n{% if doc.number %}\nno end")
    assert len(errors) == 1 and errors[0].startswith("Line 2: the template has a syntax error"), errors
    errors = pdf.check_template_source("{{ doc.number|no_such_filter }}")
    assert len(errors) == 1 and "no_such_filter" in errors[0]


def test_check_renders_against_the_sample_document():
    errors = pdf.check_template_source('{% include "documents/pdf/missing.html" %}')
    assert len(errors) == 1 and errors[0].startswith("The template fails on a sample document"), errors


def test_admin_templates_cannot_load_other_libraries_even_unchecked():
    with pytest.raises(TemplateSyntaxError):
        pdf.render_html(None, {}, template_source="{% load reach %}")


# --- tags and filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Phone"), ("zh-hans", "电话"), ("bilingual", "Phone 电话")]
)
def test_bi_tag_in_the_three_modes(language, expected):
    html = pdf.render_html(
        None, {}, template_source='{% load documents_pdf %}[{% bi "Phone" %}]', language=language
    )
    assert html == f"[{expected}]"


def test_bi_prints_an_untranslated_label_once_and_escapes():
    source = '{% load documents_pdf %}{% bi "No such label <b>" %}'
    assert (
        pdf.render_html(None, {}, template_source=source, language="bilingual") == "No such label &lt;b&gt;"
    )


def test_every_bi_label_of_the_layouts_is_extractable():
    folder = Path(pdf.__file__).parent / "templates" / "documents" / "pdf"
    used = {m for f in folder.glob("*.html") for m in re.findall(r'{% bi "([^"]+)"', f.read_text())}
    assert used and used <= set(pdf.PDF_LABELS), sorted(used - set(pdf.PDF_LABELS))


def test_page_counter_css():
    assert tags._counter_css("Page %(page)s of %(pages)s") == '"Page " counter(page) " of " counter(pages)'
    assert (
        tags._counter_css("第 %(page)s 页，共 %(pages)s 页")
        == '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    )


def test_css_string_cannot_escape_the_string_or_the_style_element():
    assert tags.css_string('QT-1"; } </style><script>') == '"QT-1\\"; } \\3c /style\\3e \\3c script\\3e "'


def test_number_filters():
    with translation.override("en"):
        assert tags.money("8313", "USD") == "$8,313.00"
        assert tags.money(D("1234.5"), "JPY") == "¥1,235"
        assert tags.money("", "USD") == ""
        assert tags.money_number("0.0325", "USD") == "0.0325"  # unit prices keep their decimals
        assert tags.money_number(D("1.5"), "USD") == "1.50"
        assert tags.money_number("1200", "JPY") == "1,200"
        assert tags.qty(D("1200.000")) == "1,200"
        assert tags.qty("12.50") == "12.5"
        assert tags.qty(D("1E+3")) == "1,000"
        assert tags.qty(None) == "" and tags.qty("n/a") == "" and tags.money("NaN", "USD") == ""
        assert tags.nonzero("0.00") is False and tags.nonzero("0.01") is True and tags.nonzero("") is False
        assert tags.day("2026-03-04") == "2026-03-04" and tags.day(None) == ""
    with translation.override("zh-hans"):
        assert tags.money("8313", "USD") == "US$8,313.00"


# --- cache of issued documents -----------------------------------------------------------------


def test_cached_pdf_builds_once_and_writes_atomically(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    calls = []

    def build():
        calls.append(1)
        return b"%PDF-1.7 fake"

    key = "quotation-42-r3-bilingual-t7"
    assert pdf.cached_pdf(key, build) == b"%PDF-1.7 fake"
    assert pdf.cached_pdf(key, build) == b"%PDF-1.7 fake"
    assert len(calls) == 1
    folder = tmp_path / "media" / "pdf-cache"
    assert sorted(p.name for p in folder.iterdir()) == [f"{key}.pdf"]  # no temporary file left


def test_cached_pdf_keeps_nothing_when_the_build_fails(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    def build():
        raise RuntimeError("template broken")

    with pytest.raises(RuntimeError):
        pdf.cached_pdf("quotation-1-r1-en-t1", build)
    assert not (tmp_path / "media" / "pdf-cache" / "quotation-1-r1-en-t1.pdf").exists()


@pytest.mark.parametrize("key", ["../x", "a/b", "", ".hidden", "x" * 201, "q 1"])
def test_cached_pdf_refuses_unsafe_keys(settings, tmp_path, key):
    settings.DATA_DIR = tmp_path
    with pytest.raises(ValueError, match="cache key"):
        pdf.cached_pdf(key, lambda: b"")
