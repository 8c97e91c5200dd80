"""Deterministic import files for the import benchmarks (bench/imports.py, bench/djangocrm_import.py).

    .venv/bin/python bench/import_files.py                      # all three files, if missing
    .venv/bin/python bench/import_files.py --only csv-100k --force --check

Writes under var/bench/files/ (git-ignored), each with a manifest `<file>.json` (rows, counts of
duplicates and bad rows by kind, sha256):

* `companies-1m.csv`   — 1,000,000 rows, 15 columns, English headers, UTF-8 with BOM, CRLF: a
  trade-show / customs-data lead list of foreign buyers (company names in many languages, Chinese
  names for overseas-Chinese importers, country written as English name / ISO code / Chinese name /
  "USA"-style alias, phones in E.164, international, national and 00-prefixed formats, contact
  person, title, industry, main products, remarks);
* `companies-100k.csv` — the same generator, 100,000 rows: byte-identical to the first 100,000
  data rows of the 1M file (each row is generated from its own seed);
* `companies-100k-20col.xlsx` — the same first 100,000 companies, 20 columns with Chinese headers
  as a Chinese exporter's old Excel archive has them (xlsxwriter, constant_memory): text cells as
  text, "合作开始日期" as real date cells.

Rows come from the demo generator (`tradecrm.customers.demo.DemoGenerator`, faker pools seeded by
the same seed), re-seeded per row so any row can be rebuilt on its own. Then, per row, from a
row-seeded RNG:
  ~1 % exact duplicates of an earlier row (the same line again: a buyer met at two fairs),
  ~2 % variant duplicates of an earlier row (same company written differently: upper case,
       legal form dropped or changed, other phone format, www or not, another contact person),
  ~0.1 % bad rows (no company name, a spreadsheet formula, a broken email, a phone that is no
       number, an unknown country),
the earlier row drawn from up to 300,000 rows back, skewed to recent ones (so duplicates cross the
importer's chunk boundaries). The manifest says how many of each.

Determinism: same seed + same code + same faker → same bytes. The sha256 of each file is in its
manifest and the expected hashes of the default seed are in EXPECTED_SHA256; `--check` compares
(a change in the demo generator's tables or in faker shows up there).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

FILES_DIR = common.BENCH_DIR / "files"
GENERATOR_VERSION = 3
SEED = 20250501
CHUNK = 20_000
NOW = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)  # the generator's "today" (dates derive from it)

P_BAD = 0.001
P_EXACT = 0.010
P_VARIANT = 0.020
DUP_WINDOW = 300_000

CSV_COLUMNS = (
    ("name", "Company Name"),
    ("name_local", "Local Name"),
    ("country", "Country"),
    ("city", "City"),
    ("address", "Address"),
    ("website", "Website"),
    ("email", "E-mail"),
    ("tel", "Tel"),
    ("contact", "Contact Person"),
    ("title", "Job Title"),
    ("contact_email", "Contact Email"),
    ("mobile", "Mobile"),
    ("industry", "Industry"),
    ("main_products", "Main Products"),
    ("remarks", "Remarks"),
)
XLSX_COLUMNS = (
    ("name", "公司名称"),
    ("name_local", "本地名称"),
    ("country", "国家"),
    ("city", "城市"),
    ("address", "地址"),
    ("website", "网站"),
    ("email", "邮箱"),
    ("tel", "电话"),
    ("contact", "联系人"),
    ("title", "职位"),
    ("contact_email", "联系人邮箱"),
    ("mobile", "手机"),
    ("whatsapp", "WhatsApp"),
    ("wechat", "微信"),
    ("industry", "行业"),
    ("main_products", "主营产品"),
    ("hs_codes", "海关编码"),
    ("business_type", "客户类型"),
    ("cooperation_since", "开始合作日期"),
    ("remarks", "备注"),
)
FILES = {
    "csv-1m": ("companies-1m.csv", 1_000_000, "csv"),
    "csv-100k": ("companies-100k.csv", 100_000, "csv"),
    "xlsx-100k": ("companies-100k-20col.xlsx", 100_000, "xlsx"),
}
# sha256 of the files of the default seed, as generated on the bench machine (see bench/README.md)
EXPECTED_SHA256: dict[str, str] = {
    "companies-1m.csv": "84ea6a709ba7fda29b5dcffb7ab45f52137a2c8b02591bcf38802caea188f0c2",
    "companies-100k.csv": "1ab161b22f6d8b8c942abffb940cfe4939ff00608ac7cc22f0e20cbeed39f01c",
    "companies-100k-20col.xlsx": "114a9c5cacbd115b0e8daebb1ce4ec67bb06d9c859b7e41c3520e478dd7a41c6",
}

COUNTRY_ALIASES = {"US": ("USA", "U.S.A."), "GB": ("UK",), "AE": ("UAE", "U.A.E."), "SA": ("KSA",)}
BAD_KINDS = ("no_name", "formula", "bad_email", "bad_phone", "bad_country")


# --- per-process state ---------------------------------------------------------------------------

_state: dict = {}


def _setup() -> None:
    """Django settings are needed only to import the demo generator and the choice labels."""
    if _state:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("TRADECRM_LOG_LEVEL", "ERROR")
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()
    from django.utils import translation

    from tradecrm.core import geo
    from tradecrm.customers.demo import MARKET_BY_COUNTRY, DemoGenerator
    from tradecrm.customers.models import BusinessType

    with translation.override("en"):
        btypes = {str(v): str(label) for v, label in BusinessType.choices}
    countries = {}
    for code in MARKET_BY_COUNTRY:
        countries[code] = (geo.country_name(code, "en"), geo.country_name(code, "zh-hans"))
    from tradecrm.customers.demo import ARABIC_INDUSTRIES, CHINESE_INDUSTRIES, HANZI, THAI_INDUSTRIES

    suffixes = {s for m in MARKET_BY_COUNTRY.values() for s in m.suffixes if s not in ("PT", "CV")}
    by_pinyin: dict[str, tuple[str, str]] = {}
    for char, pinyin in HANZI:
        by_pinyin.setdefault(pinyin, (char, pinyin))
    _state.update(
        hanzi=list(by_pinyin.values()),
        # 贸易 / 进出口 (and "Trading", "Import & Export") are what name normalisers strip
        zh_industries=[x for x in CHINESE_INDUSTRIES if x[1] not in ("贸易", "进出口")],
        ar_industries=list(ARABIC_INDUSTRIES),
        th_industries=list(THAI_INDUSTRIES),
        suffixes=sorted(suffixes, key=len, reverse=True),
        gen=DemoGenerator(seed=SEED, contacts_per_company=1, now=NOW),
        markets=MARKET_BY_COUNTRY,
        btypes=btypes,
        countries=countries,
        phone_cache={},
    )


def country_code_table() -> dict[str, str]:
    """Every way the generator writes a country (English, Chinese, upper case, aliases; casefolded)
    → ISO code: for the raw baseline and for the peer, which take codes only."""
    _setup()
    table = {}
    for code, (en, zh) in _state["countries"].items():
        table[code.casefold()] = code
        table[en.casefold()] = code
        table[zh.casefold()] = code
    for code, aliases in COUNTRY_ALIASES.items():
        for a in aliases:
            table[a.casefold()] = code
    return table


def _row_seed(i: int, salt: int) -> int:
    return (SEED << 44) ^ (salt << 36) ^ i


def row_kind(i: int) -> str:
    if i == 0:
        return "original"
    u = random.Random(_row_seed(i, 1)).random()
    if u < P_BAD:
        return "bad"
    if u < P_BAD + P_EXACT:
        return "exact_dup"
    if u < P_BAD + P_EXACT + P_VARIANT:
        return "variant_dup"
    return "original"


def dup_source(i: int) -> int:
    """An earlier original row, skewed to recent ones but up to DUP_WINDOW back."""
    r = random.Random(_row_seed(i, 2))
    j = i - 1 - int(r.random() ** 2 * min(i, DUP_WINDOW))
    while j > 0 and row_kind(j) != "original":
        j -= 1
    return max(j, 0)


def base_company(i: int):
    """The company behind data row i: the demo generator's, with a unique identity (see below)."""
    gen = _state["gen"]
    gen.rnd.seed(_row_seed(i, 3))
    g = gen.company()
    _identity(g, company_uid(i), random.Random(_row_seed(i, 6)))
    return g


# --- unique identities ------------------------------------------------------------------------------
# The demo generator draws names from small pools (fine for a demo, not for an import: 100,000 of its
# companies share only ~25,000 name+country pairs and ~39,000 email domains, so an importer would
# rightly merge most of them). Each original row therefore gets an identity from its own number:
# uid = an affine bijection of the row index on [0, 2^20), decoded into a coined brand (latin,
# with an injective Arabic spelling) or three distinct-pinyin Chinese characters + an industry;
# the domain follows from the brand, and the last seven digits of each company phone number come
# from the uid. Distinct rows → distinct names, local names, domains and numbers (up to 2^20 rows).

UID_SPACE = 1 << 20
_UID_MUL = 0x9E3779B1 % UID_SPACE | 1  # odd: a bijection modulo 2^20

_ONSETS = {
    "b": "ب", "d": "د", "f": "ف", "g": "غ", "h": "ه", "j": "ج", "k": "ك", "l": "ل", "m": "م",
    "n": "ن", "q": "ق", "r": "ر", "s": "س", "t": "ت", "z": "ز", "sh": "ش", "kh": "خ",
}  # fmt: skip
_VOWELS = {"a": "ا", "e": "ى", "i": "ي", "o": "و"}
_CODAS = {"": "", "n": "ن", "r": "ر", "s": "س", "l": "ل", "m": "م", "k": "ك", "d": "د"}
_SYLLABLES = [(o + v, ao + av) for o, ao in _ONSETS.items() for v, av in _VOWELS.items()]


def company_uid(i: int) -> int:
    if i >= UID_SPACE:
        raise ValueError(f"at most {UID_SPACE:,} rows have unique identities")
    return (i * _UID_MUL + 0x5BD1E) % UID_SPACE


def _brand(uid: int) -> tuple[str, str]:
    """(Latin brand, its Arabic spelling): 68 syllables ^ 3 × 8 codas ≥ 2^20, both injective."""
    n = len(_SYLLABLES)
    s1, s2, s3 = uid % n, (uid // n) % n, (uid // n // n) % n
    coda = list(_CODAS)[uid // n // n // n]
    parts = [_SYLLABLES[s1], _SYLLABLES[s2], _SYLLABLES[s3]]
    latin = "".join(p[0] for p in parts) + coda
    return latin.capitalize(), "".join(p[1] for p in parts) + _CODAS[coda]


def _hanzi(uid: int) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """Three characters (distinct pinyin) and an industry that no normaliser strips."""
    h, ind = _state["hanzi"], _state["zh_industries"]
    n = len(h)
    return [h[uid % n], h[(uid // n) % n], h[(uid // n // n) % n]], ind[(uid // n // n // n) % len(ind)]


def _renumber(e164: str, uid: int, k: int, country: str) -> str:
    """The number with its last seven digits from the uid — 4xxxxxx/5xxxxxx for a company's first
    number, 6xxxxxx/7xxxxxx for its second, so no two rows share one — if that is still a valid
    number of the country; else the last six digits (may repeat once in ~20 rows' stems); else
    the demo generator's number."""
    import phonenumbers

    for cand in (
        f"{e164[:-7]}{uid + (4_000_000 if k == 0 else 6_000_000):07d}",
        f"{e164[:-6]}{(uid if k == 0 else uid * 7 + 500_000) % 1_000_000:06d}",
    ):
        try:
            num = phonenumbers.parse(cand, None)
            if phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == country:
                return cand
        except phonenumbers.NumberParseException:
            pass
        _state["renumber_fallbacks"] = _state.get("renumber_fallbacks", 0) + 1
    return e164


def _identity(g, uid: int, r: random.Random) -> None:
    from tradecrm.customers.demo import TRADE_WORDS, ascii_slug

    d = g.data
    market = _state["markets"][d["country"]]
    family = _family(g)
    suffix = r.choice(market.suffixes)
    old_domain = d["email_domains"][0]
    if family == "zh":
        chars, (ind_en, ind_zh) = _hanzi(uid)
        p = [py for _c, py in chars]
        brand = f"{p[0]} {p[1]} {p[2]}" if r.random() < 0.4 else f"{p[0]}{p[1].lower()}{p[2].lower()}"
        d["name"] = f"PT {brand} {ind_en}" if suffix == "PT" else f"{brand} {ind_en} {suffix}"
        city_zh = next((zh for en, zh in market.cities if en == d["city"]), "")
        legal = r.choice(("有限公司", "公司", "贸易有限公司", "集团"))
        d["name_local"] = (
            f"{city_zh if r.random() < 0.6 else ''}{''.join(c for c, _p in chars)}{ind_zh}{legal}"
        )
        stem = ascii_slug("".join(p)) + ascii_slug(ind_en.split()[0])
    else:
        brand, brand_ar = _brand(uid)
        if family == "ar":
            ind_en, ind_ar = r.choice(_state["ar_industries"])
            d["name"] = f"{brand} {ind_en} {suffix}"
            d["name_local"] = f"{r.choice(('شركة', 'مؤسسة', 'مجموعة'))} {brand_ar} {ind_ar}"
        elif family == "th":
            ind_en, ind_th = r.choice(_state["th_industries"])
            d["name"] = f"{brand} {ind_en} {suffix}"
            d["name_local"] = f"บริษัท {brand} {ind_th} จำกัด"
        else:
            words = TRADE_WORDS.get(market.language, TRADE_WORDS["en"])
            trade = r.choice(words) if r.random() < 0.4 else ""
            if suffix in ("PT", "CV"):
                d["name"] = f"{suffix} {brand} {trade}".strip()
            elif trade.endswith(" "):  # a word that goes first: "Importadora Bakoris S.A."
                d["name"] = f"{trade}{brand} {suffix}"
            else:
                d["name"] = f"{brand} {trade} {suffix}".replace("  ", " ")
        stem = ascii_slug(brand)
    domain = f"{stem}.{market.tld}"
    d["website"] = f"https://www.{domain}"
    d["email"] = f"{d['email'].partition('@')[0]}@{domain}"
    d["email_domains"] = [domain]
    d["phones"] = [_renumber(ph, uid, k, d["country"]) for k, ph in enumerate(d["phones"])]
    for c in g.contacts:
        c["emails"] = [e.replace("@" + old_domain, "@" + domain) for e in c["emails"]]


# --- formatting a company as a list row ----------------------------------------------------------


def _family(g) -> str:
    local = g.data["name_local"]
    if not local:
        return "latin"
    ch = local[-1]
    if "\u4e00" <= ch <= "\u9fff":
        return "zh"
    if "\u0600" <= ch <= "\u06ff" or any("\u0600" <= c <= "\u06ff" for c in local):
        return "ar"
    if any("\u0e00" <= c <= "\u0e7f" for c in local):
        return "th"
    return "latin"


def _phone(e164: str, country: str, r: random.Random) -> str:
    """One number as people type it in lists: E.164, international, national, or 00-prefixed."""
    import phonenumbers

    u = r.random()
    if u < 0.25:
        return e164
    key = (e164, u < 0.6, u < 0.9)
    cache = _state["phone_cache"]
    if len(cache) > 200_000:
        cache.clear()
    out = cache.get(key)
    if out is not None:
        return out
    num = phonenumbers.parse(e164, None)
    PNF = phonenumbers.PhoneNumberFormat
    if u < 0.6:
        out = phonenumbers.format_number(num, PNF.INTERNATIONAL)
    elif u < 0.9:
        out = phonenumbers.format_number(num, PNF.NATIONAL)
    else:
        out = "00" + phonenumbers.format_number(num, PNF.INTERNATIONAL)[1:]
        try:  # only where 00 is the international prefix of the row's country
            ok = phonenumbers.format_number(phonenumbers.parse(out, country), PNF.E164) == e164
        except phonenumbers.NumberParseException:
            ok = False
        if not ok:
            out = phonenumbers.format_number(num, PNF.INTERNATIONAL)
    cache[key] = out
    return out


def _country(code: str, r: random.Random) -> str:
    en, zh = _state["countries"][code]
    u = r.random()
    if u < 0.45:
        return en
    if u < 0.65:
        return code
    if u < 0.85:
        return zh
    if u < 0.95 or code not in COUNTRY_ALIASES:
        return en.upper()
    return r.choice(COUNTRY_ALIASES[code])


def _website(url: str, r: random.Random) -> str:
    host = url.removeprefix("https://")  # the generator writes https://www.<domain>
    u = r.random()
    if u < 0.50:
        return host
    if u < 0.75:
        return url
    if u < 0.85:
        return host.removeprefix("www.")
    if u < 0.95:
        return f"http://{host}/"
    return ""


def _email(email: str, r: random.Random) -> str:
    u = r.random()
    if u < 0.05:
        return ""
    if u < 0.10:
        local, _, domain = email.partition("@")
        return f"{local.capitalize()}@{domain.upper()}"
    return email


def _contact_name(c: dict, family: str, r: random.Random) -> str:
    if family == "zh" and c["name_local"] and r.random() < 0.4:
        return c["name_local"]
    return f"{c['first_name']} {c['last_name']}".strip()


def format_row(g, r: random.Random, contact: dict | None = None) -> dict:
    d = g.data
    c = contact if contact is not None else g.contacts[0]
    family = _family(g)
    country = d["country"]
    name, local = d["name"], d["name_local"]
    if family == "zh" and r.random() < 0.25:  # listed under its Chinese name only
        name, local = local, ""
    phones = [_phone(p, country, r) for p in d["phones"]]
    tel = (
        "; ".join(phones)
        if len(phones) > 1 and r.random() < 0.3
        else (phones[0] if r.random() < 0.95 else "")
    )
    mobile = _phone(c["phones"][0], country, r) if c["phones"] and r.random() < 0.8 else ""
    remarks = d["source_detail"]
    if d["notes"] and r.random() < 0.3:
        remarks = f"{remarks}. {d['notes']}"
    coop = d["cooperation_since"]
    return {
        "name": name,
        "name_local": local,
        "country": _country(country, r),
        "city": d["city"],
        "address": d["address"],
        "website": _website(d["website"], r),
        "email": _email(d["email"], r),
        "tel": tel,
        "contact": _contact_name(c, family, r),
        "title": c["title"],
        "contact_email": c["emails"][0] if c["emails"] else "",
        "mobile": mobile,
        "whatsapp": c["whatsapp"],
        "wechat": c["wechat"],
        "industry": d["industry"],
        "main_products": d["main_products"],
        "hs_codes": ", ".join(d["hs_codes"]),
        "business_type": _state["btypes"].get(d["business_type"], ""),
        "cooperation_since": coop,
        "remarks": remarks,
    }


_LEGAL = (" Co., Ltd.", " Co. Ltd", " Ltd", " LLC", " Inc.", " GmbH", " S.A.", " Company Limited")


def _variant(row: dict, g, i: int, r: random.Random) -> dict:
    """The same company as written by another person at another time."""
    name = row["name"]
    u = r.random()
    if u < 0.3 and name.isascii():
        name = name.upper()
    elif u < 0.6:  # legal form dropped or written another way
        for suffix in _state["suffixes"]:
            if name.endswith(" " + suffix) and len(name) > len(suffix) + 4:
                name = name[: -len(suffix) - 1].rstrip(" ,")
                if r.random() < 0.5 and name.isascii():
                    name += r.choice(_LEGAL)
                break
        else:
            name = name.upper() if name.isascii() else f" {name}"
    elif u < 0.75:
        name = f"  {name} "
    row["name"] = name
    if r.random() < 0.5:  # another person from the same company
        gen = _state["gen"]
        gen.rnd.seed(_row_seed(i, 4))
        market = _state["markets"][g.data["country"]]
        domain = g.data["email_domains"][0]
        c = gen.contact(market, _family(g), domain, g.data["city"], primary=True)
        row["contact"] = _contact_name(c, _family(g), r)
        row["title"] = c["title"]
        row["contact_email"] = c["emails"][0] if c["emails"] else ""
        row["mobile"] = _phone(c["phones"][0], g.data["country"], r) if c["phones"] else ""
    if r.random() < 0.3:
        row["address"] = ""
    return row


def _corrupt(row: dict, r: random.Random) -> str:
    kind = r.choice(BAD_KINDS)
    if kind == "no_name":
        row["name"] = ""
        row["name_local"] = ""
    elif kind == "formula":
        if r.random() < 0.5:
            row["name"] = f'=HYPERLINK("http://example.invalid/x","{row["name"][:20]}")'
        else:
            row["website"] = "=cmd|' /C calc'!A0"
    elif kind == "bad_email":
        local, _, domain = (row["email"] or "info@example.com").partition("@")
        row["email"] = r.choice((f"{local}@@{domain}", f"{local} at {domain}", f"{local}@"))
    elif kind == "bad_phone":
        row["tel"] = r.choice(("123", "0000", "+1 555", "12-34"))
    else:
        row["country"] = r.choice(("Atlantis", "Narnia", "Wakanda"))
    return kind


def build_row(i: int) -> tuple[str, dict, object]:
    """(kind, row, the company behind an original row or None) for data row i (0-based)."""
    kind = row_kind(i)
    r = random.Random(_row_seed(i, 5))
    if kind == "exact_dup":
        j = dup_source(i)
        return kind, format_row(base_company(j), random.Random(_row_seed(j, 5))), None
    if kind == "variant_dup":
        j = dup_source(i)
        g = base_company(j)
        return kind, _variant(format_row(g, r), g, i, r), None
    g = base_company(i)
    row = format_row(g, r)
    if kind == "bad":
        return "bad_" + _corrupt(row, r), row, None
    return kind, row, g


def match_keys(g) -> list[int]:
    """The exact-match keys an importer computes for the company (tradecrm.dedup.keys)."""
    from tradecrm.dedup.keys import company_match_keys

    d = g.data
    values = {k: d[k] for k in ("name", "name_local", "country", "email", "website", "phones")}
    return [key for _kind, key in company_match_keys(values)]


def _build_chunk(args) -> tuple[list[tuple], dict, list[list[int]]]:
    start, stop, columns, with_keys = args
    _setup()
    counts: dict[str, int] = {}
    out, keys = [], []
    for i in range(start, stop):
        kind, row, g = build_row(i)
        counts[kind] = counts.get(kind, 0) + 1
        out.append(tuple(row[k] for k in columns))
        if with_keys and g is not None:
            keys.append(match_keys(g))
    counts["phone_renumber_fallbacks"] = _state.pop("renumber_fallbacks", 0)
    return out, counts, keys


def _worker_init() -> None:
    try:
        os.nice(10)  # a shared machine: generation yields to interactive work
    except OSError:
        pass
    _setup()


# --- writers ---------------------------------------------------------------------------------------


def _chunks(rows: int, columns: tuple[str, ...], with_keys: bool):
    return [(s, min(s + CHUNK, rows), columns, with_keys) for s in range(0, rows, CHUNK)]


def _generate(rows: int, columns: tuple[str, ...], workers: int, sink, with_keys: bool = True) -> dict:
    """Rows in order into `sink`; counts by kind, and how many original rows share an exact-match
    key (normalised name + country, domain, phone…) with an earlier original: companies an
    importer would merge although they are different (should be ~0)."""
    counts: dict[str, int] = {}
    seen: set[int] = set()

    def take(out, c, keys):
        sink(out)
        for k, v in c.items():
            counts[k] = counts.get(k, 0) + v
        for row_keys in keys:
            if any(k in seen for k in row_keys):
                counts["originals_sharing_a_key"] = counts.get("originals_sharing_a_key", 0) + 1
            seen.update(row_keys)

    chunks = _chunks(rows, columns, with_keys)
    if workers <= 1:
        _worker_init()
        for result in map(_build_chunk, chunks):
            take(*result)
        return counts
    with mp.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
        for n, result in enumerate(pool.imap(_build_chunk, chunks)):
            take(*result)
            if (n + 1) % 10 == 0:
                print(f"  {min((n + 1) * CHUNK, rows):,} rows", file=sys.stderr)
    return counts


def write_csv(path: Path, rows: int, workers: int) -> dict:
    cols = tuple(k for k, _h in CSV_COLUMNS)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow([h for _k, h in CSV_COLUMNS])
        counts = _generate(rows, cols, workers, w.writerows)
    tmp.replace(path)
    return counts


def write_xlsx(path: Path, rows: int, workers: int) -> dict:
    import xlsxwriter

    cols = tuple(k for k, _h in XLSX_COLUMNS)
    date_col = cols.index("cooperation_since")
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # a fixed creation date keeps the file byte-identical between runs
    wb.set_properties({"created": dt.datetime(2025, 5, 1)})
    ws = wb.add_worksheet("客户")
    head = wb.add_format({"bold": True})
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, [h for _k, h in XLSX_COLUMNS], head)
    state = {"r": 1}

    def sink(batch):
        r0 = state["r"]
        for n, row in enumerate(batch):
            rn = r0 + n
            for c, v in enumerate(row):
                if c == date_col:
                    if v:
                        ws.write_datetime(rn, c, dt.datetime(v.year, v.month, v.day), datefmt)
                elif v:
                    ws.write_string(rn, c, v)
        state["r"] = r0 + len(batch)

    counts = _generate(rows, cols, workers, sink)
    wb.close()
    tmp.replace(path)
    return counts


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def generate(key: str, *, workers: int = 2, force: bool = False) -> dict:
    name, rows, kind = FILES[key]
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    path = FILES_DIR / name
    mpath = manifest_path(path)
    if not force and path.exists() and mpath.exists():
        m = json.loads(mpath.read_text())
        if (
            m.get("generator_version") == GENERATOR_VERSION
            and m.get("seed") == SEED
            and m.get("rows") == rows
        ):
            return m
    t = time.perf_counter()
    counts = (write_csv if kind == "csv" else write_xlsx)(path, rows, workers)
    columns = [h for _k, h in (CSV_COLUMNS if kind == "csv" else XLSX_COLUMNS)]
    bad = {k.removeprefix("bad_"): v for k, v in sorted(counts.items()) if k.startswith("bad_")}
    m = {
        "file": name,
        "path": str(path),
        "format": kind,
        "rows": rows,
        "columns": columns,
        "seed": SEED,
        "generator_version": GENERATOR_VERSION,
        "originals": counts.get("original", 0),
        "exact_duplicates": counts.get("exact_dup", 0),
        "variant_duplicates": counts.get("variant_dup", 0),
        "bad_rows": sum(bad.values()),
        "bad_rows_by_kind": bad,
        "originals_sharing_a_match_key": counts.get("originals_sharing_a_key", 0),
        "phone_renumber_fallbacks": counts.get("phone_renumber_fallbacks", 0),
        "bytes": path.stat().st_size,
        "sha256": sha256(path),
        "generated_s": round(time.perf_counter() - t, 1),
        "machine": common.machine(),
    }
    mpath.write_text(json.dumps(m, indent=2, ensure_ascii=False) + "\n")
    return m


def ensure(key: str, *, workers: int = 2) -> Path:
    """Path of the file, generated first if missing (for the benchmark scripts)."""
    m = generate(key, workers=workers)
    return Path(m["path"])


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=tuple(FILES), action="append", help="one file (repeatable)")
    p.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    p.add_argument("--force", action="store_true", help="regenerate even if present")
    p.add_argument("--check", action="store_true", help="compare sha256 with EXPECTED_SHA256")
    args = p.parse_args(argv)
    out = []
    for key in args.only or FILES:
        m = generate(key, workers=args.workers, force=args.force)
        if args.check and m["file"] in EXPECTED_SHA256:
            m["sha256"] = sha256(Path(m["path"]))  # the bytes on disk, not the manifest's word
            m["sha256_expected"] = EXPECTED_SHA256[m["file"]]
            m["sha256_matches"] = m["sha256"] == EXPECTED_SHA256[m["file"]]
        out.append(m)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.check and any(m.get("sha256_matches") is False for m in out):
        raise SystemExit("sha256 differs from the expected value: the generator or faker changed")
    return out


if __name__ == "__main__":
    main()
