"""PDF engine of trade documents (quotations, proforma invoices): Django template → HTML → WeasyPrint.

Why WeasyPrint, and how it is kept fast: docs/decisions/0006-pdf-engine.md.

    render_pdf("documents/pdf/quotation.html", context, language="bilingual") -> bytes
    render_pdf(None, context, template_source=admin_edited_text, language="zh-hans")
    check_template_source(admin_edited_text) -> [error messages]   (empty list: fine to save)
    cached_pdf(f"quotation-{id}-r{revision}-{language}-t{template_version}", build) -> bytes

Languages: "en", "zh-hans", or "bilingual" (English is activated and `{% bi "Quotation" %}` prints
"Quotation 报价单"). Templates load `{% load documents_pdf %}` for `bi`, `money`, `money_number`, `qty`,
`nonzero`, `day`, `page_counter`, `css_string` (see templatetags/documents_pdf.py).

Admin-edited templates (`template_source`) are rendered by an engine with the project's template
loaders but only the tag libraries of ALLOWED_LIBRARIES; `check_template_source` says why one
cannot be saved. Every document is rendered without network access: `resolve_local_url` decides
what a document may load (our static files, letterhead images of the data dir).

Context contract: what every trade document template (base.html and the templates extending it)
may read. Plain dicts and lists (the issued document's snapshot); every key is optional unless
marked *, a missing one renders as empty. Numbers are Decimal or numeric strings, dates are dates
or ISO strings (snapshots are JSON): print them with |money, |money_number, |qty, |day.

    seller   name*, name_zh, address, address_zh, phone, email, website, tax_id,
             logo      image: a media storage name under MEDIA_IMAGE_DIRS ("letterhead/logo.png"),
                       a static URL ({% static %}), or an absolute path inside those directories
             stamp     image of the company stamp / signature, same rules as logo
             signatory name printed under the signature line
    buyer    name*, name_local, contact, address, city, country, phone, email, tax_id
    doc      title*    e.g. "Quotation" (children override {% block doc_title %} with {% bi %})
             number*, revision, date*, valid_until, currency* (ISO 4217), reference (buyer's
             reference / PO), sales_rep,
             show_discount, show_packing   (bool: show the discount / cartons-G.W.-CBM columns)
    lines    list of dicts: no, sku, name, name_zh, spec, note, hs_code, qty, unit, unit_price,
             discount (percent, e.g. "5"), amount, cartons, gw (kg), cbm (m³)
    totals   subtotal, discount, freight, insurance, total*, total_in_words,
             qty, cartons, gw, nw, cbm, deposit_percent, deposit, balance
    terms    incoterm ("FOB"), incoterm_place ("Ningbo"), payment, lead_time, port_loading,
             port_destination, shipping_marks, packing, remarks
    bank     beneficiary, beneficiary_address, bank_name, bank_address, account, swift, iban,
             routing, intermediary     (the block is printed when `account` is set)

In "zh-hans" the seller's and lines' Chinese names replace the English ones when present; in
"bilingual" both are printed.

render_pdf adds `pdf_language` ("en" / "zh-hans" / "bilingual") and `pdf_lang` (the html lang).

Labels: makemessages does not see `{% bi "…" %}` in templates, so every msgid used with `bi`
in templates/documents/pdf/ is listed in PDF_LABELS below (a test checks it).
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template import Context, Engine, engines
from django.template.base import Lexer, TokenType
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

LANGUAGES = ("en", "zh-hans", "bilingual")

# Tag libraries an admin-edited template may load; everything else is refused when it is saved,
# and the engine that renders admin-edited templates knows no other library anyway.
ALLOWED_LIBRARIES = {
    "documents_pdf": "tradecrm.documents.templatetags.documents_pdf",
    "i18n": "django.templatetags.i18n",
    "l10n": "django.templatetags.l10n",
    "static": "django.templatetags.static",
}
# {% include %} / {% extends %} in admin-edited templates: only our own document layouts.
ALLOWED_TEMPLATE_PREFIX = "documents/pdf/"
# {% debug %} would print the whole context and the loaded modules into a customer's PDF.
FORBIDDEN_TAGS = frozenset({"debug"})

# Folders of the data dir's media a PDF may show images from: the seller's letterhead (logo,
# stamp). Not the rest of media: timeline attachments of every customer, the PDF cache.
MEDIA_IMAGE_DIRS = ("letterhead",)
STATIC_SUFFIXES = frozenset(".css .png .jpg .jpeg .gif .svg .webp .ttf .otf .woff .woff2".split())
MEDIA_SUFFIXES = frozenset(".png .jpg .jpeg .gif .svg .webp".split())

# Relative URLs in a document resolve against this virtual root: "/static/…" is served from the
# static files, "letterhead/logo.png" (a media storage name) from DATA_DIR/media/letterhead/.
BASE_URL = "file:///media/"

PDF_CACHE_DIR = "pdf-cache"
PDF_CACHE_LABEL = "documents.pdf_cache"  # encryption label of the cached PDFs (authenticated data)
_CACHE_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

# Only what our layouts use, instead of WeasyPrint's full HTML5 user-agent sheet (124 rules that
# every element is matched against); figures in docs/decisions/0006-pdf-engine.md. An element not
# listed here displays inline: add it when a layout needs it.
LEAN_UA_CSS = """
head, script, style, title, meta, link, template, [hidden] { display: none }
html, body, div, p, h1, h2, h3, h4, h5, h6, header, footer, section, address, ul, ol, dl, dt, dd,
  blockquote, figure, hr, pre { display: block }
li { display: list-item }
table { display: table; box-sizing: border-box; border-collapse: separate; text-indent: initial }
caption { display: table-caption }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group; vertical-align: middle }
tbody { display: table-row-group; vertical-align: middle }
tfoot { display: table-footer-group; vertical-align: middle }
tr { display: table-row; vertical-align: inherit }
td, th { display: table-cell; vertical-align: inherit }
b, strong, th, h1, h2, h3, h4, h5, h6 { font-weight: bold }
i, em, address { font-style: italic }
small, sub, sup { font-size: smaller }
sub { vertical-align: sub }
sup { vertical-align: super }
p, ul, ol, dl, pre, blockquote, figure { margin-top: 1em; margin-bottom: 1em }
ul, ol { padding-left: 40px }
ul { list-style-type: disc }
ol { list-style-type: decimal; counter-reset: list-item }
pre { white-space: pre; font-family: monospace }
h1 { font-size: 2em; margin: .67em 0 }
h2 { font-size: 1.5em; margin: .83em 0 }
h3 { font-size: 1.17em; margin: 1em 0 }
h4, h5, h6 { margin: 1.33em 0 }
hr { border: 1px inset gray; margin: .5em auto }
br::before { content: "\\A"; white-space: pre-line }
img, svg { overflow: hidden }
body { margin: 8px }
@page {
  margin: 75px;
  @top-left { text-align: left; vertical-align: middle }
  @top-center { text-align: center; vertical-align: middle }
  @top-right { text-align: right; vertical-align: middle }
  @bottom-left { text-align: left; vertical-align: middle }
  @bottom-center { text-align: center; vertical-align: middle }
  @bottom-right { text-align: right; vertical-align: middle }
}
"""

# Labels the layouts print with {% bi %}: listed here so that makemessages extracts them.
PDF_LABELS = (
    gettext_noop("Quotation"),
    gettext_noop("Proforma Invoice"),
    gettext_noop("Address"),
    gettext_noop("Amount"),
    gettext_noop("Balance"),
    gettext_noop("Bank"),
    gettext_noop("Bank address"),
    gettext_noop("Bank details"),
    gettext_noop("Beneficiary"),
    gettext_noop("Beneficiary address"),
    gettext_noop("Buyer"),
    gettext_noop("Cartons"),
    gettext_noop("CBM"),
    gettext_noop("Ctns"),
    gettext_noop("Contact"),
    gettext_noop("Country"),
    gettext_noop("Date"),
    gettext_noop("Deposit"),
    gettext_noop("Description"),
    gettext_noop("Disc. %"),
    gettext_noop("Discount"),
    gettext_noop("Email"),
    gettext_noop("Freight"),
    gettext_noop("G.W. (kg)"),
    gettext_noop("HS code"),
    gettext_noop("IBAN"),
    gettext_noop("Incoterm"),
    gettext_noop("Insurance"),
    gettext_noop("Intermediary bank"),
    gettext_noop("Lead time"),
    gettext_noop("N.W. (kg)"),
    gettext_noop("No."),
    gettext_noop("Number"),
    gettext_noop("Account number"),
    gettext_noop("Packing"),
    gettext_noop("Payment terms"),
    gettext_noop("Phone"),
    gettext_noop("Port of destination"),
    gettext_noop("Port of loading"),
    gettext_noop("Qty"),
    gettext_noop("Reference"),
    gettext_noop("Remarks"),
    gettext_noop("Revision"),
    gettext_noop("Routing number"),
    gettext_noop("Sales representative"),
    gettext_noop("Say"),
    gettext_noop("Seller"),
    gettext_noop("Shipping marks"),
    gettext_noop("Subtotal"),
    gettext_noop("SWIFT"),
    gettext_noop("Tax ID"),
    gettext_noop("Terms"),
    gettext_noop("Total"),
    gettext_noop("Total amount"),
    gettext_noop("Totals"),
    gettext_noop("Unit price"),
    gettext_noop("Valid until"),
    gettext_noop("Website"),
    gettext_noop("Authorized signature"),
    gettext_noop("Accepted by the buyer"),
    # quotation.html, proforma.html
    gettext_noop("Balance due"),
    gettext_noop("Container estimate"),
    gettext_noop("Deposit due"),
    gettext_noop("LCL (less than container load)"),
)


# --- templates ---------------------------------------------------------------------------------


@functools.cache
def _document_engine(debug: bool = False) -> Engine:
    """The engine for admin-edited templates: the project's loaders (so `documents/pdf/base.html`
    can be extended) and builtins, but only the allowed tag libraries."""
    main = engines["django"].engine
    return Engine(
        dirs=main.dirs,
        app_dirs=main.app_dirs,
        debug=debug,
        libraries=ALLOWED_LIBRARIES,
        builtins=[b for b in main.builtins if b not in Engine.default_builtins],
        autoescape=True,
        string_if_invalid="",
    )


def _html_lang(language: str) -> str:
    return "zh-Hans" if language == "zh-hans" else "en"


def render_html(
    template_name: str | None,
    context: dict,
    *,
    template_source: str | None = None,
    language: str = "en",
) -> str:
    """The document's HTML, with translation active for `language` (see module docstring)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if (template_name is None) == (template_source is None):
        raise ValueError("pass either template_name or template_source")
    ctx = {**context, "pdf_language": language, "pdf_lang": _html_lang(language)}
    with translation.override("zh-hans" if language == "zh-hans" else "en"):
        if template_source is not None:
            template = _document_engine().from_string(template_source)
        else:
            template = engines["django"].engine.get_template(template_name)
        return template.render(Context(ctx, autoescape=True))


def render_pdf(
    template_name: str | None,
    context: dict,
    *,
    template_source: str | None = None,
    language: str = "en",
) -> bytes:
    """Render a trade document to PDF bytes: a file template (`template_name`) or an admin-edited
    one from the database (`template_source`), in "en", "zh-hans" or "bilingual"."""
    html = render_html(template_name, context, template_source=template_source, language=language)
    return html_to_pdf(html)


# --- WeasyPrint ---------------------------------------------------------------------------------


@functools.cache
def _weasy():
    """WeasyPrint loads Pango and fontconfig when imported (~0.3 s): only when a PDF is made."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LeanHTML(weasyprint.HTML):
        """WeasyPrint's HTML with our small user-agent stylesheet (LEAN_UA_CSS)."""

        def _ua_stylesheets(self, forms=False):
            return [_lean_ua_stylesheet()]

    class LocalFetcher(URLFetcher):
        """Serves only our static files and the letterhead images of the data dir; no network."""

        def fetch(self, url, headers=None):
            path = resolve_local_url(url)
            if path is None:
                raise ValueError(f"refused: {url[:200]}")
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes())

    return weasyprint, FontConfiguration, LeanHTML, LocalFetcher


@functools.cache
def _lean_ua_stylesheet():
    import weasyprint
    from weasyprint.html import UA_COUNTER_STYLE

    return weasyprint.CSS(string=LEAN_UA_CSS, counter_style=UA_COUNTER_STYLE)


def url_fetcher():
    """The URL fetcher every document is rendered with (refuses http(s), data:, other files)."""
    return _weasy()[3]()


def html_to_pdf(html: str, *, font_config=None, lean_ua: bool = True) -> bytes:
    """HTML → PDF with the lean UA sheet and the local-only fetcher. Fonts come from fontconfig
    (Debian's fonts-noto-cjk); `font_config` is for tests that need another font setup,
    `lean_ua=False` (WeasyPrint's full HTML5 sheet) for the benchmark's comparison."""
    weasyprint, FontConfiguration, LeanHTML, LocalFetcher = _weasy()
    html_class = LeanHTML if lean_ua else weasyprint.HTML
    document = html_class(string=html, base_url=BASE_URL, url_fetcher=LocalFetcher())
    return document.write_pdf(font_config=font_config or FontConfiguration())


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _static_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)] if getattr(settings, "STATIC_ROOT", None) else []
    roots += [Path(d if isinstance(d, str | os.PathLike) else d[1]) for d in settings.STATICFILES_DIRS]
    return [r.resolve() for r in roots]


def _media_roots() -> list[Path]:
    media = Path(settings.DATA_DIR) / "media"
    return [(media / name).resolve() for name in MEDIA_IMAGE_DIRS]


def _existing_file(path: Path, roots: list[Path], suffixes: frozenset[str]) -> Path | None:
    path = path.resolve()
    if path.suffix.lower() not in suffixes or not any(_inside(path, root) for root in roots):
        return None
    return path if path.is_file() else None


def resolve_local_url(url: str) -> Path | None:
    """The file a document URL stands for, or None if it must not be fetched: only file: URLs,
    only static files and images under DATA_DIR/media/<MEDIA_IMAGE_DIRS> (no symlink or `..`
    escapes)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    raw = unquote(parts.path)
    if "\x00" in raw:
        return None
    static_url = "/" + settings.STATIC_URL.strip("/") + "/"
    if raw.startswith(static_url):
        name = raw[len(static_url) :]
        if ".." in name.split("/"):
            return None
        for root in _static_roots():
            if found := _existing_file(root / name, [root], STATIC_SUFFIXES):
                return found
        try:
            found = finders.find(name)  # app static dirs too, when collectstatic has not run
        except SuspiciousFileOperation:
            return None
        if not found or Path(found).suffix.lower() not in STATIC_SUFFIXES:
            return None
        return Path(found) if Path(found).is_file() else None
    if raw.startswith("/media/"):
        media = (Path(settings.DATA_DIR) / "media").resolve()
        return _existing_file(media / raw[len("/media/") :], _media_roots(), MEDIA_SUFFIXES)
    # An absolute path given by the caller (e.g. a logo's storage path).
    path = Path(raw)
    if not path.is_absolute():
        return None
    return _existing_file(path, [*_static_roots(), *_media_roots()], STATIC_SUFFIXES | MEDIA_SUFFIXES)


# --- checking admin-edited templates ------------------------------------------------------------


def _quoted_name(bit: str) -> str | None:
    if len(bit) >= 2 and bit[0] == bit[-1] and bit[0] in "\"'":
        return bit[1:-1]
    return None


def _allowed_template_name(name: str) -> bool:
    return (
        name.startswith(ALLOWED_TEMPLATE_PREFIX)
        and "\\" not in name
        and ".." not in name.split("/")
        and "//" not in name
    )


def check_template_source(source: str) -> list[str]:
    """Problems with an admin-edited document template (translated messages; empty: fine).

    It must compile, load only ALLOWED_LIBRARIES, include/extend only `documents/pdf/…` templates
    named in quotes, not use {% debug %}, and render the sample document without error."""
    errors: list[str] = []
    allowed = ", ".join(sorted(ALLOWED_LIBRARIES))
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        bits = token.split_contents()
        if not bits:
            continue
        tag = bits[0]
        if tag == "load":
            names = bits[bits.index("from") + 1 :] if "from" in bits[1:] else bits[1:]
            for name in names:
                if name not in ALLOWED_LIBRARIES:
                    errors.append(
                        _(
                            "Line %(line)s: the tag library “%(library)s” cannot be used in a "
                            "document template (allowed: %(allowed)s)."
                        )
                        % {"line": token.lineno, "library": name, "allowed": allowed}
                    )
        elif tag in ("include", "extends"):
            name = _quoted_name(bits[1]) if len(bits) > 1 else None
            if name is None:
                errors.append(
                    _("Line %(line)s: {%% %(tag)s %%} must name a template in quotes.")
                    % {"line": token.lineno, "tag": tag}
                )
            elif not _allowed_template_name(name):
                errors.append(
                    _(
                        "Line %(line)s: {%% %(tag)s %%} may only use templates under "
                        "“%(prefix)s”, not “%(name)s”."
                    )
                    % {"line": token.lineno, "tag": tag, "prefix": ALLOWED_TEMPLATE_PREFIX, "name": name}
                )
        elif tag in FORBIDDEN_TAGS:
            errors.append(
                _("Line %(line)s: {%% %(tag)s %%} cannot be used in a document template.")
                % {"line": token.lineno, "tag": tag}
            )
    if errors:
        return errors

    from django.template import TemplateSyntaxError

    try:
        template = _document_engine(debug=True).from_string(source)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        if line:
            return [
                _("Line %(line)s: the template has a syntax error: %(error)s") % {"line": line, "error": exc}
            ]
        return [_("The template has a syntax error: %(error)s") % {"error": exc}]
    try:
        with translation.override("en"):
            template.render(
                Context({**sample_context(), "pdf_language": "bilingual", "pdf_lang": "en"}, autoescape=True)
            )
    except Exception as exc:  # any failure on the sample document means the template cannot be saved
        return [_("The template fails on a sample document: %(error)s") % {"error": exc}]
    return []


def sample_context() -> dict:
    """A complete sample document (every key of the contract), for template checks and benches."""
    d = Decimal
    lines = [
        {
            "no": 1,
            "sku": "LED-T8-18W",
            "name": "LED tube T8 18W 1200 mm",
            "name_zh": "LED灯管 T8 18瓦 1200毫米",
            "spec": "6500K, 1800 lm, frosted cover",
            "hs_code": "8539.52",
            "qty": d("2400"),
            "unit": "pcs",
            "unit_price": d("1.85"),
            "discount": d("5"),
            "amount": d("4218.00"),
            "cartons": 100,
            "gw": d("620.5"),
            "cbm": d("2.45"),
        },
        {
            "no": 2,
            "sku": "PNL-600",
            "name": "LED panel 600×600 40W",
            "name_zh": "LED面板灯 600×600 40瓦",
            "spec": "4000K, UGR<19",
            "hs_code": "9405.11",
            "qty": d("300"),
            "unit": "pcs",
            "unit_price": d("12.4"),
            "discount": None,
            "amount": d("3720.00"),
            "cartons": 75,
            "gw": d("810"),
            "cbm": d("3.1"),
        },
    ]
    return {
        "seller": {
            "name": "Ningbo Brightway Lighting Co., Ltd.",
            "name_zh": "宁波明途照明有限公司",
            "address": "No. 88 Jiangnan Road, Ningbo, Zhejiang, China",
            "address_zh": "浙江省宁波市江南路88号",
            "phone": "+86 574 8888 1234",
            "email": "sales@brightway.example",
            "website": "www.brightway.example",
            "tax_id": "91330200MA2XXXXX1Y",
            "logo": "",
            "stamp": "",
            "signatory": "Li Wei",
        },
        "buyer": {
            "name": "Lumen Supply LLC",
            "contact": "John Carter",
            "address": "1200 W Lake St",
            "city": "Chicago, IL 60607",
            "country": "United States",
            "phone": "+1 312 555 0100",
            "email": "purchasing@lumen.example",
            "tax_id": "",
        },
        "doc": {
            "title": "Quotation",
            "number": "QT-2025-0001",
            "revision": 1,
            "date": date(2025, 3, 10),
            "valid_until": date(2025, 4, 9),
            "currency": "USD",
            "reference": "RFQ 7781",
            "sales_rep": "Alice Wang",
            "show_discount": True,
            "show_packing": True,
        },
        "lines": lines,
        "totals": {
            "subtotal": d("7938.00"),
            "discount": d("0"),
            "freight": d("350.00"),
            "insurance": d("25.00"),
            "total": d("8313.00"),
            "total_in_words": "US dollars eight thousand three hundred and thirteen only",
            "qty": d("2700"),
            "cartons": 175,
            "gw": d("1430.5"),
            "nw": d("1300"),
            "cbm": d("5.55"),
            "deposit_percent": d("30"),
            "deposit": d("2493.90"),
            "balance": d("5819.10"),
        },
        "terms": {
            "incoterm": "FOB",
            "incoterm_place": "Ningbo",
            "payment": "30% T/T in advance, 70% against B/L copy",
            "lead_time": "25–30 days after deposit",
            "port_loading": "Ningbo, China",
            "port_destination": "Chicago, USA",
            "shipping_marks": "LUMEN / CHICAGO / C/NO. 1-175",
            "packing": "Export carton, 24 pcs per carton",
            "remarks": "Prices valid for the quantities above.",
        },
        "bank": {
            "beneficiary": "Ningbo Brightway Lighting Co., Ltd.",
            "beneficiary_address": "No. 88 Jiangnan Road, Ningbo, China",
            "bank_name": "Bank of China, Ningbo Branch",
            "bank_address": "139 Yaohang Street, Ningbo, China",
            "account": "3581 0000 1234 5678",
            "swift": "BKCHCNBJ92A",
            "iban": "",
            "routing": "",
            "intermediary": "",
        },
    }


# --- cache of issued documents ------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "media" / PDF_CACHE_DIR


def cached_pdf(key: str, build: Callable[[], bytes]) -> bytes:
    """The PDF stored under `key`, built (and stored) on the first call. Only for immutable
    (issued) documents: the key names everything the bytes depend on, e.g.
    "quotation-42-r3-bilingual-t7" (document id, revision, language, template version).
    Written to a temporary file and renamed, so a reader never sees half a PDF."""
    if not _CACHE_KEY_RE.match(key):
        raise ValueError(f"bad PDF cache key {key!r}: letters, digits, '.', '_', '-' only")
    from tradecrm.core import crypto

    folder = cache_dir()
    path = folder / f"{key}.pdf"
    try:
        stored = path.read_bytes()
    except FileNotFoundError:
        stored = None
    # encryption at rest: a proforma invoice prints the bank account and tax ids, so the cached
    # copy is stored encrypted (AES-GCM, like attachments). A copy from before this, or one under
    # a key since retired, is rebuilt: the cache is derived data.
    if stored is not None and crypto.is_encrypted_bytes(stored):
        try:
            return crypto.decrypt_bytes(stored, PDF_CACHE_LABEL)
        except (crypto.DecryptionError, crypto.MissingKeyError):
            pass
    data = build()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(crypto.encrypt_bytes(data, PDF_CACHE_LABEL))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return data
