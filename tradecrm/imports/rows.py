"""One file row → clean values, fast: the per-row half of an import, free of the database.

A `Cleaner` is built once per job from the mapping (column index → target field), the source and
the options; `cleaner(num, cells)` then turns a row into a `Row`: the clean values of the record
(and of its contact), its match keys and search text already computed, or every reason it is
refused ("column “E-mail”: “x@” is not a valid email address …"). The rules are the ones
`customers/validation.py` applies to a form (phones E.164 read with the row's country as region,
emails, country codes and names in English and Chinese, choices by value or label in either
language, dates in any common format, text limits), rewritten for speed where the form's version
is slow per call (an email regex before `email_validator`, caches for countries, choices, time
zones), because a million rows go through here.

Nothing here touches the database, so cleaners run in a worker process (engine.py) while the main
process writes: they are rebuilt there from `CleanerConfig`, which pickles.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumber, PhoneNumberFormat, format_number, is_valid_number
from phonenumbers import phonenumberutil as pu
from phonenumbers import timezone as phone_tz
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from tradecrm.core import geo
from tradecrm.core.emails import normalize_email
from tradecrm.core.ids import parse_id
from tradecrm.core.phones import normalize_phone
from tradecrm.core.search import phone_search_tokens, search_document
from tradecrm.customers.models import BusinessType, CompanySize, CreditRating, PurchaseBand, Source, Status
from tradecrm.customers.validation import COMPANY_TEXT_LIMITS, CONTACT_TEXT_LIMITS
from tradecrm.dedup.keys import NAME as _KEY_NAME
from tradecrm.dedup.keys import company_keys, contact_key_texts, key_hash

# Multi-valued cells: "a@x.com; b@y.com", "+49 30 1234567 / +49 171 2345678", "LED, Solar"
_SPLIT = re.compile(r"\s*(?:[,;\n\r、，；]|\s/\s)\s*")
_PHONE_SPLIT = re.compile(r"\s*(?:[,;\n\r、，；/]|\bor\b)\s*")
_HS = re.compile(r"^\d{4,10}$")
_HS_DROP = re.compile(r"[\s.\-]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"([A-Za-z]{2,63})$"
)
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_HOST = re.compile(
    r"^(?:https?://)?((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})\.?(?::\d{1,5})?"
    r"(?:[/?#][^\s]*)?$"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
FORMULA_START = frozenset("=+-@\t\r")
MAX_LIST = 20
MAX_HS = 50
SEP = "\x1f"  # joins a row's cells for the trip to the main process
_COMPANY_TEXT = frozenset(COMPANY_TEXT_LIMITS) - {"website"}

COMPANY_CONTACT_FIELDS = {
    "contact_first_name": "first_name",
    "contact_last_name": "last_name",
    "contact_name": "name",
    "contact_name_local": "name_local",
    "contact_title": "title",
    "contact_email": "emails",
    "contact_phone": "phones",
    "contact_mobile": "phones",
    "contact_whatsapp": "whatsapp",
    "contact_wechat": "wechat",
    "contact_linkedin": "linkedin",
    "contact_skype": "skype",
}
# What a company created by an import gets when the file says nothing.
COMPANY_DEFAULTS: dict[str, Any] = {
    "name": "",
    "name_local": "",
    "country": "",
    "city": "",
    "address": "",
    "website": "",
    "email": "",
    "email_domains": [],
    "phones": [],
    "industry": "",
    "tax_id": "",
    "business_type": "",
    "company_size": "",
    "annual_purchase": "",
    "main_products": "",
    "hs_codes": [],
    "source": "",
    "source_detail": "",
    "timezone": "",
    "preferred_language": "",
    "currency": "",
    "credit_rating": "",
    "cooperation_since": None,
    "status": Status.LEAD.value,
    "notes": "",
}
CONTACT_DEFAULTS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_local": "",
    "title": "",
    "seniority": "",
    "emails": [],
    "phones": [],
    "whatsapp": "",
    "wechat": "",
    "linkedin": "",
    "skype": "",
    "birthday": None,
    "preferred_language": "",
    "notes": "",
}
LIST_FIELDS = frozenset({"phones", "emails", "email_domains", "hs_codes"})
CHOICES = {
    "business_type": BusinessType,
    "company_size": CompanySize,
    "annual_purchase": PurchaseBand,
    "source": Source,
    "credit_rating": CreditRating,
    "status": Status,
}


class Row(NamedTuple):
    num: int  # the row number a spreadsheet program shows
    cells: list[str]
    reasons: list[str]  # empty: the row is good
    values: dict  # the record's clean values (only the fields the file gives)
    contact: dict | None  # companies: the row's contact person; contacts: the contact itself
    tags: tuple[str, ...] = ()
    owner: str = ""  # as written in the file: username, email or full name
    record_id: int | None = None  # the row names an existing record (update)
    match: tuple[int, ...] = ()  # match key hashes (company_match_keys)
    keys: tuple[tuple[int, int], ...] = ()  # every key (company_keys) for a new record
    search: str = ""  # search_text of a new record as the row describes it
    extra: dict | None = None  # entity-specific (contacts: the company reference)
    # the columns of the new record (and of its contact) ready for the writer, so that the main
    # process only adds ids: (company values, (notes, search text), contact prep or None)
    prep: tuple | None = None


@dataclass
class CleanerConfig:
    """Everything a cleaner needs, picklable (sent to the worker process)."""

    entity: str
    source: str
    headers: list[str]
    mapping: dict[int, str]
    options: dict = field(default_factory=dict)
    language: str = "en"
    today: dt.date | None = None


def column_reason(header: str, message: str) -> str:
    return _("column “%(column)s”: %(message)s") % {"column": header, "message": message}


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# --- cached lookups ------------------------------------------------------------------------------


@functools.cache
def _values():
    from . import values

    return values


@functools.cache
def _country_lookup() -> dict[str, str]:
    """Country names and codes → alpha-2, folded: every name customs' parser knows (English,
    Chinese, official, common and vendors' spellings)."""
    from tradecrm.customs.forwarders import fold
    from tradecrm.customs.importing import country_names

    names = dict(country_names())
    # short forms Chinese exporters write that CLDR does not list
    for name, code in COUNTRY_SHORT_FORMS.items():
        names.setdefault(fold(name), code)
    return names


COUNTRY_SHORT_FORMS = {
    "阿联酋": "AE", "阿拉伯联合酋长国": "AE", "沙特": "SA", "沙特阿拉伯": "SA", "美国": "US", "英国": "GB",
    "德国": "DE", "法国": "FR", "俄罗斯": "RU", "韩国": "KR", "南韩": "KR", "朝鲜": "KP", "台湾": "TW",
    "中国台湾": "TW", "香港": "HK", "中国香港": "HK", "澳门": "MO", "中国澳门": "MO", "越南": "VN", "印尼": "ID",
    "菲律宾": "PH", "马来西亚": "MY", "新加坡": "SG", "泰国": "TH", "新西兰": "NZ", "南非": "ZA", "土耳其": "TR",
    "伊朗": "IR", "荷兰": "NL", "比利时": "BE", "瑞士": "CH", "捷克": "CZ", "大陆": "CN", "中国大陆": "CN",
    "uae": "AE", "u.a.e.": "AE", "ksa": "SA", "usa": "US", "u.s.a.": "US", "uk": "GB", "england": "GB",
}  # fmt: skip


@functools.lru_cache(maxsize=4096)
def parse_country(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    upper = text.upper()
    if len(text) == 2 and upper in geo.country_codes():
        return upper
    from tradecrm.customs.forwarders import fold

    code = _country_lookup().get(fold(text))
    if code is None:
        raise ValueError(
            _("“%(value)s” is not a country (use its name or a two-letter code such as DE).")
            % {"value": text}
        )
    return code


@functools.cache
def _choice_map(field: str, language: str) -> dict[str, str]:
    """Lower-cased value and label (English and Chinese) → value."""
    choices = CHOICES[field]
    out: dict[str, str] = {}
    for lang in ("en", "zh-hans", language):
        with translation.override(lang):
            for value, label in choices.choices:
                out.setdefault(str(label).strip().lower(), value)
    for value, _label in choices.choices:
        out[str(value).lower()] = value
    # "1-10 employees" and "1–10" are one choice
    for key in list(out):
        if "–" in key:
            out.setdefault(key.replace("–", "-"), out[key])
    return out


@functools.lru_cache(maxsize=2048)
def parse_choice(field: str, raw: str, language: str = "en") -> str:
    value = _choice_map(field, language).get(raw.strip().lower())
    if value is None:
        raise ValueError(_("“%(value)s” is not one of the available choices.") % {"value": raw})
    return value


@functools.cache
def _timezones() -> dict[str, str]:
    return {z.lower(): z for z in geo.timezone_names()}


@functools.cache
def _languages() -> dict[str, str]:
    out = {c: c for c in geo.LANGUAGE_CODES}
    for lang in ("en", "zh-hans"):
        for code, name in geo.language_choices(lang):
            out[str(name).lower()] = code
    out.update(
        {"zh-cn": "zh", "zh-hans": "zh", "zh-tw": "zh", "english": "en", "chinese": "zh", "中文": "zh"}
    )
    return out


@functools.lru_cache(maxsize=16384)
def _city_zone(country: str, city: str) -> str:
    """The zone named after the city, as geo.infer_timezone looks for it first."""
    zones = geo.zones_for_country(country)
    key = geo._fold(city) if city else ""
    if key:
        for z in zones:
            if geo._fold(z.rsplit("/", 1)[-1]) == key:
                return z
    return ""


def _phone_zone(country: str, phone: str, valid: bool = False) -> str:
    """geo.infer_timezone(country, "", phone) for an E.164 number, without parsing it again: the
    same library calls (time_zones_for_number) on the number built from its digits."""
    if not phone:
        return _country_zone(country)
    cc, nsn = pu._extract_country_code(phone[1:]) if phone[:1] == "+" and phone[1:].isdigit() else (0, "")
    if not cc or len(nsn) < 2:
        return geo.infer_timezone(country, "", phone)
    found = _cc_zones(cc) if valid else None
    if found is None:
        num = PhoneNumber(country_code=cc)
        pu._set_italian_leading_zeros_for_phone_number(nsn, num)
        num.national_number = int(nsn)
        found = phone_tz.time_zones_for_number(num)
    return _zone_choice(country, tuple(found))


@functools.lru_cache(maxsize=4096)
def _zone_choice(country: str, found: tuple) -> str:
    """geo.infer_timezone's choice between the number's zones and the country's."""
    names = geo.timezone_names()
    zones = geo.zones_for_country(country)
    cands = [z for z in found if z in names]
    if len(cands) == 1 or (cands and not zones):
        return cands[0]
    if cands and zones:
        inter = [z for z in cands if z in zones]
        if len(inter) == 1:
            return inter[0]
    return zones[0] if zones else ""


@functools.cache
def _cc_zones(cc: int) -> tuple | None:
    """The zones phonenumbers gives every valid number of calling code `cc`, when they are the
    same for all of them (one tuple in its prefix table under that code, e.g. +63 → Manila);
    None when the number decides. time_zones_for_number only looks up prefixes of the number
    that start with the code (codes are prefix-free), or the code itself: with a single value
    there, a valid number (type known; the cleaner only keeps valid ones) gets that value."""
    from phonenumbers.tzdata import TIMEZONE_DATA

    code = str(cc)
    values = {v for k, v in TIMEZONE_DATA.items() if k.startswith(code) or code.startswith(k)}
    return next(iter(values)) if len(values) == 1 else None


@functools.lru_cache(maxsize=1024)
def _country_zone(country: str) -> str:
    return geo.infer_timezone(country, "", "")


def infer_timezone(country: str, city: str, phone: str, valid: bool = False) -> str:
    """services._fill_derived's guess (geo.infer_timezone: the city's zone, else the phone's, else
    the country's main one); the city half cached. valid: the phone is known to be a valid number
    (the cleaner's own output), which lets a calling code with one zone skip the number's type."""
    return _city_zone(country, city) or _phone_zone(country, phone, valid)


def website_host(url: str) -> str:
    """The host services._fill_derived puts into email_domains."""
    return url.split("://", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")


def clean_email(raw: str) -> str:
    m = _EMAIL.match(raw)
    if m is not None and len(raw) <= 254 and raw.index("@") <= 64 and m.group(1).lower() not in _SPECIAL_TLDS:
        return raw.lower()
    return normalize_email(raw)  # the full rules, and their message


def clean_website(raw: str) -> str:
    m = _HOST.match(raw)
    if m is None:
        from django.core.validators import URLValidator

        url = raw if "://" in raw else f"https://{raw}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValueError(_("“%(value)s” is not a web address.") % {"value": raw}) from None
        return url
    return raw if "://" in raw else f"https://{raw}"


_PLAIN_PHONE = re.compile(r"^\+?\(?[0-9][0-9 ().\-/]*$")
_NON_DIGITS = re.compile(r"[^0-9]")


@functools.cache
def _phone_metadata(region: str):
    from phonenumbers.phonemetadata import PhoneMetadata

    return PhoneMetadata.metadata_for_region(region, None) if region else None


def _fast_phone(raw: str, region: str) -> str | None:
    """phonenumbers.parse + is_valid_number + E.164 for the common shape — ASCII digits and
    separators, maybe a leading + — without the steps that shape makes moot (finding the number
    in free text, extensions, viability regexes): about a third less time per number. The same
    library functions do the rest, in parse()'s order. None: not this shape or not valid; the
    caller then runs the full parse, which also gives the message."""
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) < 3 or len(digits) > 19:
        return None
    number = ("+" + digits) if raw[0] == "+" else digits
    metadata = _phone_metadata(region)
    if metadata is None and number[0] != "+":
        return None
    numobj = PhoneNumber()
    if number[0] == "+":
        # what _maybe_extract_country_code does with a "+" number, without re-normalising digits
        if len(digits) <= 2:
            return None
        cc, nsn = pu._extract_country_code(digits)
        if not cc:
            return None
    else:
        try:
            cc, nsn = pu._maybe_extract_country_code(number, metadata, False, numobj)
        except pu.NumberParseException:
            return None
    if cc:
        number_region = pu.region_code_for_country_code(cc)
        if number_region != region:
            metadata = pu.PhoneMetadata.metadata_for_region_or_calling_code(cc, number_region)
    else:
        nsn = digits
        cc = metadata.country_code
    if len(nsn) < 2 or metadata is None:
        return None
    _carrier, potential, _ = pu._maybe_strip_national_prefix_carrier_code(nsn, metadata)
    if pu._test_number_length(potential, metadata) not in _SHORT:
        nsn = potential
    if not 2 <= len(nsn) <= 17:
        return None
    if nsn[0] == "0" and len(nsn) > 1 and nsn.strip("0") == "":
        return None  # all zeros: leave the odd case to the library
    valid = _valid_nsn(cc, nsn)
    if valid is None:  # a region this shortcut does not know: ask the library
        numobj.country_code = cc
        pu._set_italian_leading_zeros_for_phone_number(nsn, numobj)
        numobj.national_number = int(nsn)
        return format_number(numobj, PhoneNumberFormat.E164) if is_valid_number(numobj) else None
    return f"+{cc}{nsn}" if valid else None


@functools.cache
def _type_descs(region: str):
    """(general (lengths, regex), [(lengths, regex) of each number type], leading digits regex) of
    a region, compiled once: what phonenumbers' _number_type_helper tests, in one place."""
    from phonenumbers.phonemetadata import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None:
        return None

    def desc(d):
        if d is None or not d.national_number_pattern:
            return None
        return (frozenset(d.possible_length or ()), re.compile(f"(?:{d.national_number_pattern})\\Z"))

    # _type_ok only asks whether any type matches: the common ones first (same answer, fewer regexes)
    types = [desc(getattr(meta, a)) for a in ("fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost",
                                              "voip", "personal_number", "pager", "uan", "voicemail")]  # fmt: skip
    lead = re.compile(meta.leading_digits) if meta.leading_digits else None
    return desc(meta.general_desc), [t for t in types if t is not None], lead


def _type_ok(nsn: str, descs) -> bool:
    general, types, _lead = descs
    n = len(nsn)
    if general is None or (general[0] and n not in general[0]) or not general[1].match(nsn):
        return False
    return any((not lengths or n in lengths) and rx.match(nsn) for lengths, rx in types)


def _valid_nsn(cc: int, nsn: str) -> bool | None:
    """phonenumbers.is_valid_number for +cc nsn (None: not a geographic country code)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(cc)
    if not regions or "001" in regions:
        return None
    if len(regions) == 1:
        descs = _type_descs(regions[0])
        return None if descs is None else _type_ok(nsn, descs)
    for region in regions:  # the number's region: as region_code_for_number finds it
        descs = _type_descs(region)
        if descs is None:
            continue
        if descs[2] is not None:
            if descs[2].match(nsn):
                return _type_ok(nsn, descs)
        elif _type_ok(nsn, descs):
            return True
    return False


@functools.cache
def _short_results() -> frozenset:
    from phonenumbers.phonenumberutil import ValidationResult

    return frozenset({ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
                      ValidationResult.INVALID_LENGTH})  # fmt: skip


class _Short:
    def __contains__(self, item) -> bool:
        return item in _short_results()


_SHORT = _Short()


def clean_phone(raw: str, region: str) -> str:
    """E.164, as core.phones.normalize_phone gives it (its message when the number is bad)."""
    if raw.isascii() and _PLAIN_PHONE.match(raw):
        e164 = _fast_phone(raw, region.upper() if region else "")
        if e164 is not None:
            return e164
    return normalize_phone(raw, region)


def clean_hs(raw: str) -> str:
    digits = _HS_DROP.sub("", raw)
    if not _HS.match(digits):
        raise ValueError(_("“%(value)s” is not an HS code (4 to 10 digits).") % {"value": raw})
    return digits


def split_list(raw: str) -> list[str]:
    return [p for p in _SPLIT.split(raw) if p]


def split_phones(raw: str) -> list[str]:
    return [p for p in _PHONE_SPLIT.split(raw) if p]


def split_person(full: str) -> tuple[str, str, str]:
    """(first, last, local) from one "name" cell: CJK names stay whole in the local-script
    name; "Anna Maria Schmidt" → ("Anna Maria", "Schmidt")."""
    full = " ".join(full.split())
    if not full:
        return "", "", ""
    if _CJK.search(full):
        return "", "", full
    if " " not in full:
        return full, "", ""
    first, last = full.rsplit(" ", 1)
    return first, last, ""


def _phone_tokens(e164: str) -> str:
    """core.search.phone_search_tokens, without a loop over the characters of an E.164 number."""
    if e164[:1] == "+" and e164[1:].isdigit():
        return e164[1:]
    return phone_search_tokens(e164)


def company_search_text(values: dict, contacts: list[dict]) -> str:
    """customers.services.company_search_text for plain dicts (same parts, same order)."""
    parts: list[Any] = [
        values.get("name", ""),
        values.get("name_local", ""),
        values.get("email", ""),
        values.get("city", ""),
        " ".join(values.get("email_domains") or ()),
    ]
    parts += [_phone_tokens(p) for p in values.get("phones") or ()]
    for c in contacts:
        parts += [c.get("first_name", ""), c.get("last_name", ""), c.get("name_local", ""),
                  " ".join(c.get("emails") or ())]  # fmt: skip
        parts += [_phone_tokens(p) for p in c.get("phones") or ()]
    return search_document(*parts)


def contact_search_text(c: dict) -> str:
    """customers.services.contact_search_text for a plain dict."""
    return search_document(
        c.get("first_name", ""),
        c.get("last_name", ""),
        c.get("name_local", ""),
        " ".join(c.get("emails") or ()),
        *(_phone_tokens(p) for p in c.get("phones") or ()),
        c.get("wechat", ""),
        c.get("whatsapp", ""),
    )


def company_mid(v: dict) -> tuple:
    """The columns of customers_company from name to status (writers.COMPANY_COLUMNS[3:27]) of a
    full set of values."""
    d = dumps
    coop = v["cooperation_since"]
    return (
        v["name"], v["name_local"], v["country"], v["city"], v["address"], v["website"], v["email"],
        d(v["email_domains"]), d(v["phones"]), v["industry"], v["tax_id"], v["business_type"], v["company_size"],
        v["annual_purchase"], v["main_products"], d(v["hs_codes"]), v["source"], v["source_detail"], v["timezone"],
        v["preferred_language"], v["currency"], v["credit_rating"], coop.isoformat() if coop else None, v["status"],
    )  # fmt: skip


def contact_prep(c: dict) -> tuple:
    """(columns first_name … birthday, (preferred_language, notes, search_text), keys) of a new
    contact. Keys are (kind, hash, None), or for the person's name, which is a key within its
    company only, (kind, None, ":name") — the writer hashes it with the company's id."""
    d = dumps
    emails = c.get("emails") or []
    bday = c.get("birthday")
    if isinstance(bday, dt.date):
        bday = bday.isoformat()
    mid = (
        c.get("first_name", ""), c.get("last_name", ""), c.get("name_local", ""), c.get("title", ""),
        c.get("seniority", ""), d(emails), d(c.get("phones") or []), emails[0] if emails else "",
        c.get("whatsapp", ""), c.get("wechat", ""), c.get("linkedin", ""), c.get("skype", ""), bday or None,
    )  # fmt: skip
    tail = (c.get("preferred_language", ""), c.get("notes", ""), contact_search_text(c))
    keys = []
    for kind, text in contact_key_texts({**c, "company_id": ""}):
        if kind == _KEY_NAME and text.startswith(":"):
            keys.append((kind, None, text))
        else:
            keys.append((kind, key_hash(kind, text), None))
    return mid, tail, tuple(keys)


MID_FIELDS = (
    "name", "name_local", "country", "city", "address", "website", "email", "email_domains", "phones", "industry",
    "tax_id", "business_type", "company_size", "annual_purchase", "main_products", "hs_codes", "source",
    "source_detail", "timezone", "preferred_language", "currency", "credit_rating", "cooperation_since", "status",
)  # fmt: skip
CONTACT_MID_FIELDS = (
    "first_name", "last_name", "name_local", "title", "seniority", "emails", "phones", "email", "whatsapp",
    "wechat", "linkedin", "skype", "birthday",
)  # fmt: skip


def values_from_prep(prep: tuple) -> tuple[dict, dict | None]:
    """The values (and contact) a prepared row stands for — when it has to be merged after all."""
    mid, (notes, _search), cprep = prep
    v = dict(zip(MID_FIELDS, mid, strict=True))
    for f in ("email_domains", "phones", "hs_codes"):
        v[f] = json.loads(v[f])
    if v["cooperation_since"]:
        v["cooperation_since"] = dt.date.fromisoformat(v["cooperation_since"])
    v["notes"] = notes
    contact = None
    if cprep is not None:
        cmid, (lang, cnotes, _csearch), _keys = cprep
        contact = dict(zip(CONTACT_MID_FIELDS, cmid, strict=True))
        del contact["email"]
        contact["emails"], contact["phones"] = json.loads(contact["emails"]), json.loads(contact["phones"])
        if contact["birthday"]:
            contact["birthday"] = dt.date.fromisoformat(contact["birthday"])
        contact["preferred_language"], contact["notes"] = lang, cnotes
        contact = {k: val for k, val in contact.items() if val not in ("", None, [])}
    return {k: val for k, val in v.items() if val not in ("", None, [])}, contact


def pack(row: Row):
    """What goes down the pipe from the cleaning process: a prepared new record as a plain tuple
    (its values and contact are rebuilt from the prepared columns only if it must be merged), about
    a tenth of the unpickling time of the full Row; any other row as it is."""
    if row.prep is None or row.reasons or row.record_id is not None:
        return row
    cells = SEP.join(row.cells)
    if cells.count(SEP) != len(row.cells) - 1:
        return row
    return (row.num, cells, row.prep, row.keys, row.match, row.search, row.tags, row.owner)


def unpack(item) -> Row:
    if type(item) is tuple:
        num, cells, prep, keys, match, search, tags, owner = item
        return Row(num, cells, [], None, None, tags, owner, None, match, keys, search, None, prep)
    return item


def cells_of(row: Row) -> list[str]:
    return row.cells.split(SEP) if isinstance(row.cells, str) else list(row.cells)


def values_of(row: Row) -> tuple[dict, dict | None]:
    if row.values is not None:
        return row.values, row.contact
    return values_from_prep(row.prep)


def name_of(row: Row) -> str:
    if row.values is not None:
        return row.values.get("name", "")
    return row.prep[0][0]


def jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_json_encode = json.JSONEncoder().encode  # json.dumps(value) with its defaults, without the call's checks
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def dumps(value) -> str:
    """JSON as Django's JSONField writes it (json.dumps). A list of strings that need no escaping
    (ASCII, no quote, backslash or control character: phones, domains, HS codes) is joined
    directly, the same text ~5× faster."""
    if type(value) is list:
        if not value:
            return "[]"
        try:
            s = '", "'.join(value)
        except TypeError:
            return _json_encode(value)
        if s.isascii() and _JSON_ESCAPED.search(s) is None:
            return f'["{s}"]'
    return _json_encode(value)


# --- the cleaners --------------------------------------------------------------------------------


class Cleaner:
    """Base: the columns grouped by field, formula checks, the row's reasons."""

    entity = ""

    def __init__(self, config: CleanerConfig):
        from .mapping import targets
        from .sources import get_source

        self.config = config
        self.headers = list(config.headers)
        self.source = get_source(config.source)
        self.options = config.options or {}
        self.language = config.language or "en"
        self.today = config.today or timezone.localdate()
        self.day_first = self.source.day_first
        self.day_first_by_field: dict = self.options.get("_day_first") or {}
        self.targets = {t.field: t for t in targets(config.entity, config.source)}
        by_field: dict[str, list[int]] = {}
        for idx, fld in sorted((int(k), v) for k, v in config.mapping.items()):
            if fld and fld in self.targets and 0 <= idx < len(self.headers):
                by_field.setdefault(fld, []).append(idx)
        self.by_field = by_field
        self.columns = [(i, f) for f, idxs in by_field.items() for i in idxs]
        self.columns.sort()
        self.default_country = (self.options.get("default_country") or "").upper()
        self._date_cache: dict[str, dt.date] = {}

    def header(self, idx: int) -> str:
        return self.headers[idx]

    def field_header(self, fld: str) -> str:
        idxs = self.by_field.get(fld)
        return self.headers[idxs[0]] if idxs else str(self.targets[fld].label if fld in self.targets else fld)

    def formula_reasons(self, cells: list[str]) -> list[str]:
        out = []
        for idx, _fld in self.columns:
            c = cells[idx]
            if c and (c[0] in FORMULA_START or (c[0].isspace() and c.lstrip()[:1] in FORMULA_START)):
                msg = _values().formula_error(c)
                if msg:
                    out.append(column_reason(self.headers[idx], msg))
        return out

    def parse_date(self, raw: str, fld: str = "") -> dt.date:
        key = (fld, raw)
        day = self._date_cache.get(key)
        if day is None:
            day = _values().parse_date(raw, day_first=self.day_first_by_field.get(fld, self.day_first))
            if len(self._date_cache) < 10000:
                self._date_cache[key] = day
        return day

    def text(self, values: dict, fld: str, raw: str, limit: int, reasons: list[str], idx: int) -> None:
        if len(raw) > limit:
            reasons.append(
                column_reason(
                    self.headers[idx],
                    _("At most %(limit)d characters (this has %(length)d).")
                    % {"limit": limit, "length": len(raw)},
                )
            )
            return
        values[fld] = raw

    def __call__(self, num: int, cells: list[str]) -> Row:
        raise NotImplementedError


class CompanyCleaner(Cleaner):
    entity = "companies"

    def __init__(self, config: CleanerConfig):
        super().__init__(config)
        from tradecrm.dedup.keys import TOKEN

        self._token = TOKEN
        self.defaults = {k: v for k, v in (self.source.defaults or {}).items() if k in COMPANY_DEFAULTS}
        self.has_contact = any(f in COMPANY_CONTACT_FIELDS for f in self.by_field)

    def __call__(self, num: int, cells: list[str]) -> Row:
        reasons = self.formula_reasons(cells)
        values: dict[str, Any] = {}
        contact: dict[str, Any] = {}
        phones_raw: list[tuple[int, str]] = []
        contact_phones_raw: list[tuple[int, str]] = []
        whatsapp_raw: tuple[int, str] | None = None
        tags: list[str] = []
        owner = ""
        record_id = None
        notes: list[str] = []
        hs: list[str] = []
        headers = self.headers
        for idx, fld in self.columns:
            raw = cells[idx].strip()
            if not raw:
                continue
            try:
                if fld in _COMPANY_TEXT:
                    if fld == "notes":
                        notes.append(raw)
                    else:
                        self.text(values, fld, raw, COMPANY_TEXT_LIMITS[fld], reasons, idx)
                elif fld == "country":
                    values["country"] = parse_country(raw)
                elif fld == "email":
                    values["email"] = clean_email(raw)
                elif fld == "website":
                    if len(raw) > 255:
                        raise ValueError(_("At most %(limit)d characters (this has %(length)d).")
                                         % {"limit": 255, "length": len(raw)})  # fmt: skip
                    values["website"] = clean_website(raw)
                elif fld == "phones":
                    phones_raw += [(idx, p) for p in split_phones(raw)]
                elif fld in CHOICES:
                    try:
                        values[fld] = parse_choice(fld, raw, self.language)
                    except ValueError:
                        target = self.targets[fld]
                        if target.fallback:
                            values.setdefault(target.fallback, raw[:255])
                        else:
                            raise
                elif fld == "hs_codes":
                    hs += [clean_hs(p) for p in split_list(raw)]
                elif fld == "tax_id":
                    if len(raw) > 40:
                        raise ValueError(_("At most %(limit)d characters (this has %(length)d).")
                                         % {"limit": 40, "length": len(raw)})  # fmt: skip
                    values["tax_id"] = raw
                elif fld == "timezone":
                    z = _timezones().get(raw.lower())
                    if z is None:
                        raise ValueError(_("Unknown time zone “%(value)s” (use an IANA name, e.g. Europe/Berlin).")
                                         % {"value": raw})  # fmt: skip
                    values["timezone"] = z
                elif fld == "preferred_language":
                    code = _languages().get(raw.lower())
                    if code is None:
                        raise ValueError(_("Unknown language code “%(value)s”.") % {"value": raw})
                    values["preferred_language"] = code
                elif fld == "currency":
                    code = raw.upper()
                    if code not in geo.currency_codes():
                        raise ValueError(_("Unknown currency code “%(value)s” (use ISO 4217, e.g. USD).")
                                         % {"value": raw})  # fmt: skip
                    values["currency"] = code
                elif fld == "cooperation_since":
                    day = self.parse_date(raw, fld)
                    if day > self.today:
                        raise ValueError(_("This date is in the future."))
                    values["cooperation_since"] = day
                elif fld == "tags":
                    tags += [t[:50] for t in split_list(raw)]
                elif fld == "owner":
                    owner = raw
                elif fld == "id":
                    record_id = parse_id(raw)
                    if record_id is None:
                        raise ValueError(_("“%(value)s” is not a record id.") % {"value": raw})
                elif fld in COMPANY_CONTACT_FIELDS:
                    cf = COMPANY_CONTACT_FIELDS[fld]
                    if cf == "emails":
                        contact["emails"] = [clean_email(e) for e in split_list(raw)]
                    elif cf == "phones":
                        contact_phones_raw += [(idx, p) for p in split_phones(raw)]
                    elif cf == "whatsapp":
                        whatsapp_raw = (idx, raw)
                    elif cf == "name":
                        contact["_full"] = raw
                    else:
                        limit = CONTACT_TEXT_LIMITS.get(cf, 255)
                        self.text(contact, cf, raw, limit, reasons, idx)
            except (ValueError, ValidationError) as exc:
                reasons.append(column_reason(headers[idx], _message(exc)))
        for k, v in self.defaults.items():
            values.setdefault(k, v)
        if not values.get("country") and self.default_country:
            values["country"] = self.default_country
        region = values.get("country", "")
        if notes:
            values["notes"] = "\n".join(notes)[: COMPANY_TEXT_LIMITS["notes"]]
        if hs:
            values["hs_codes"] = list(dict.fromkeys(hs))[:MAX_HS]
        if phones_raw:
            values["phones"] = self._phones(phones_raw, region, reasons)
        if "tax_id" in values and region:
            from tradecrm.dedup.normalize import normalize_tax_id, tax_id_checkable

            compact, valid = normalize_tax_id(values["tax_id"], region)
            if valid:
                values["tax_id"] = compact
            elif tax_id_checkable(region):
                reasons.append(column_reason(
                    self.field_header("tax_id"),
                    _("“%(value)s” is not a valid tax / VAT number for %(country)s.")
                    % {"value": values["tax_id"], "country": geo.country_name(region, self.language)},
                ))  # fmt: skip
        if self.has_contact:
            contact = self._contact(contact, contact_phones_raw, whatsapp_raw, region, values, reasons)
        if record_id is None and not values.get("name"):
            reasons.append(
                column_reason(self.field_header("name"), _("The company name is required."))
                if "name" in self.by_field
                else _("The company name is required.")
            )
        if reasons:
            return Row(num, cells, reasons, values, contact or None)
        if record_id is not None:
            # an update names its record: keys and search text are computed from the merged values
            return Row(
                num, cells, reasons, values, contact or None, tuple(dict.fromkeys(tags)), owner, record_id
            )
        self.derive(values, valid_phones=True)
        keys = tuple(company_keys(values))
        token = self._token
        match = tuple(k for kind, k in keys if kind != token)
        contacts = [contact] if contact else []
        search = company_search_text(values, contacts)
        full = {**COMPANY_DEFAULTS, **values}
        prep = (company_mid(full), (full["notes"], search), contact_prep(contact) if contact else None)
        return Row(num, cells, reasons, values, contact or None, tuple(dict.fromkeys(tags)), owner, None, match,
                   keys, search, None, prep)  # fmt: skip

    def derive(self, values: dict, valid_phones: bool = False) -> None:
        """What company_create fills in by itself (services._fill_derived). valid_phones: the
        phones are the cleaner's (valid E.164)."""
        if not values.get("timezone"):
            phones = values.get("phones")
            tz = infer_timezone(
                values.get("country", ""), values.get("city", ""), phones[0] if phones else "", valid_phones
            )
            if tz:
                values["timezone"] = tz
        if not values.get("email_domains") and values.get("website"):
            host = website_host(values["website"])
            if host:
                values["email_domains"] = [host]

    def _phones(self, raw: list[tuple[int, str]], region: str, reasons: list[str]) -> list[str]:
        out: list[str] = []
        for idx, p in raw:
            try:
                e164 = clean_phone(p, region)
            except ValidationError as exc:
                reasons.append(column_reason(self.headers[idx], _message(exc)))
                continue
            if e164 and e164 not in out:
                out.append(e164)
        if len(out) > MAX_LIST:
            reasons.append(_("At most %(limit)d phone numbers.") % {"limit": MAX_LIST})
        return out

    def _contact(
        self, contact: dict, phones_raw, whatsapp_raw, region: str, company: dict, reasons: list[str]
    ):
        full = contact.pop("_full", "")
        if full and not (contact.get("first_name") or contact.get("last_name")):
            first, last, local = split_person(full)
            limit = CONTACT_TEXT_LIMITS["first_name"]
            if len(first) > limit or len(last) > limit or len(local) > limit:
                reasons.append(column_reason(self.field_header("contact_name"),
                                             _("At most %(limit)d characters (this has %(length)d).")
                                             % {"limit": limit, "length": len(full)}))  # fmt: skip
            if first:
                contact["first_name"] = first
            if last:
                contact["last_name"] = last
            if local and not contact.get("name_local"):
                contact["name_local"] = local
        if phones_raw:
            contact["phones"] = self._phones(phones_raw, region, reasons)
        if whatsapp_raw is not None:
            try:
                contact["whatsapp"] = clean_phone(whatsapp_raw[1], region)
            except ValidationError as exc:
                reasons.append(column_reason(self.headers[whatsapp_raw[0]], _message(exc)))
        if contact.get("emails"):
            contact["emails"] = list(dict.fromkeys(contact["emails"]))[:MAX_LIST]
        if not contact:
            return {}
        if not (contact.get("first_name") or contact.get("last_name") or contact.get("name_local")):
            # A contact needs a name (customers.validation). Without one, what the row says about
            # how to reach someone stays with the company instead of being lost.
            emails = contact.get("emails") or []
            if emails and not company.get("email"):
                company["email"] = emails[0]
                emails = emails[1:]
            phones = [p for p in [*(contact.get("phones") or []), contact.get("whatsapp", "")] if p]
            if phones:
                have = company.setdefault("phones", [])
                have += [p for p in phones if p not in have]
            rest = [e for e in emails] + [
                f"{k}: {contact[k]}" for k in ("title", "wechat", "linkedin", "skype") if contact.get(k)
            ]
            if rest:
                line = _("Contact: %(details)s") % {"details": ", ".join(rest)}
                company["notes"] = f"{company['notes']}\n{line}" if company.get("notes") else line
            return {}
        return contact


class ContactCleaner(Cleaner):
    """Contacts: the person, and the company they belong to (by id, name, website or domain)."""

    entity = "contacts"

    def __call__(self, num: int, cells: list[str]) -> Row:
        reasons = self.formula_reasons(cells)
        contact: dict[str, Any] = {}
        company: dict[str, Any] = {}
        phones_raw: list[tuple[int, str]] = []
        notes: list[str] = []
        emails: list[str] = []
        record_id = None
        whatsapp_raw = None
        headers = self.headers
        for idx, fld in self.columns:
            raw = cells[idx].strip()
            if not raw:
                continue
            try:
                if fld == "emails":
                    emails += [clean_email(e) for e in split_list(raw)]
                elif fld == "phones":
                    phones_raw += [(idx, p) for p in split_phones(raw)]
                elif fld == "whatsapp":
                    whatsapp_raw = (idx, raw)
                elif fld == "notes":
                    notes.append(raw)
                elif fld == "name":
                    contact["_full"] = raw
                elif fld == "birthday":
                    day = self.parse_date(raw, fld)
                    if day > self.today:
                        raise ValueError(_("This date is in the future."))
                    contact["birthday"] = day
                elif fld == "company_name":
                    self.text(company, "name", raw, 255, reasons, idx)
                elif fld == "company_website":
                    company["website"] = clean_website(raw)
                elif fld == "company_country":
                    company["country"] = parse_country(raw)
                elif fld == "company_id":
                    cid = parse_id(raw)
                    if cid is None:
                        raise ValueError(_("“%(value)s” is not a record id.") % {"value": raw})
                    company["id"] = cid
                elif fld == "id":
                    record_id = parse_id(raw)
                    if record_id is None:
                        raise ValueError(_("“%(value)s” is not a record id.") % {"value": raw})
                elif fld in CONTACT_TEXT_LIMITS:
                    self.text(contact, fld, raw, CONTACT_TEXT_LIMITS[fld], reasons, idx)
            except (ValueError, ValidationError) as exc:
                reasons.append(column_reason(headers[idx], _message(exc)))
        if not company.get("country") and self.default_country:
            company["country"] = self.default_country
        region = company.get("country", "")
        full = contact.pop("_full", "")
        if full and not (contact.get("first_name") or contact.get("last_name")):
            first, last, local = split_person(full)
            if first:
                contact["first_name"] = first[:120]
            if last:
                contact["last_name"] = last[:120]
            if local and not contact.get("name_local"):
                contact["name_local"] = local[:120]
        if emails:
            contact["emails"] = list(dict.fromkeys(emails))[:MAX_LIST]
        if notes:
            contact["notes"] = "\n".join(notes)[: CONTACT_TEXT_LIMITS["notes"]]
        if phones_raw:
            out: list[str] = []
            for idx, p in phones_raw:
                try:
                    e164 = clean_phone(p, region)
                except ValidationError as exc:
                    reasons.append(column_reason(headers[idx], _message(exc)))
                    continue
                if e164 and e164 not in out:
                    out.append(e164)
            contact["phones"] = out[:MAX_LIST]
        if whatsapp_raw is not None:
            try:
                contact["whatsapp"] = clean_phone(whatsapp_raw[1], region)
            except ValidationError as exc:
                reasons.append(column_reason(headers[whatsapp_raw[0]], _message(exc)))
        if record_id is None:
            if not (contact.get("first_name") or contact.get("last_name") or contact.get("name_local")):
                if contact.get("emails"):
                    # an address book row with an address only: the address names the person
                    contact["first_name"] = contact["emails"][0].split("@", 1)[0][:120]
                else:
                    reasons.append(_("Enter at least a first name, a last name or a name in local script."))
            if not company:
                domain = (contact.get("emails") or [""])[0].rsplit("@", 1)[-1]
                if domain:
                    company["domain"] = domain
                else:
                    reasons.append(
                        _("The company is missing: map a column to the company's name, website or ID.")
                    )
        if company.get("website") and not company.get("domain"):
            company["domain"] = website_host(company["website"])
        return Row(num, cells, reasons, contact, None, record_id=record_id, extra=company,
                   search="" if reasons else contact_search_text(contact))  # fmt: skip


class CustomsCleaner(Cleaner):
    """Customs records: part C's prepare_customs_row does the rules; errors name the column."""

    entity = "customs"

    def __call__(self, num: int, cells: list[str]) -> Row:
        from tradecrm.customs.importing import prepare_customs_row

        reasons = self.formula_reasons(cells)
        raw: dict[str, str] = {}
        for idx, fld in self.columns:
            value = cells[idx].strip()
            if value and fld not in raw:
                raw[fld] = value
        try:
            row = prepare_customs_row(
                raw,
                day_first=self.day_first_by_field.get("date", self.day_first),
                default_country=self.default_country,
                today=self.today,
            )
        except ValidationError as exc:
            for fld, messages in exc.message_dict.items():
                for m in messages:
                    reasons.append(column_reason(self.field_header(fld), m) if fld in self.targets else m)
            return Row(num, cells, reasons, {}, None)
        if reasons:
            return Row(num, cells, reasons, row, None)
        match: tuple[int, ...] = ()
        keys: tuple = ()
        if row.get("buyer_name"):
            from tradecrm.customs.importing import company_values
            from tradecrm.dedup.keys import TOKEN, company_keys

            cvalues = company_values(row)
            keys = tuple(company_keys(cvalues))
            match = tuple(k for kind, k in keys if kind != TOKEN)
        return Row(num, cells, reasons, row, None, match=match, keys=keys)


class ProductCleaner(Cleaner):
    """Products: the cells by field; the catalogue's rules run in the main process, where the
    product a SKU names is known (catalog.validation.clean_product)."""

    entity = "products"

    def __call__(self, num: int, cells: list[str]) -> Row:
        reasons = self.formula_reasons(cells)
        raw: dict[str, str] = {}
        for idx, fld in self.columns:
            value = cells[idx].strip()
            if value and fld not in raw:
                raw[fld] = value
        if not raw.get("sku"):
            reasons.append(column_reason(self.field_header("sku"), _("The SKU is required.")))
        return Row(num, cells, reasons, raw, None)


CLEANERS: dict[str, type[Cleaner]] = {
    "companies": CompanyCleaner,
    "contacts": ContactCleaner,
    "customs": CustomsCleaner,
    "products": ProductCleaner,
}


def make_cleaner(config: CleanerConfig) -> Callable[[int, list[str]], Row]:
    return CLEANERS[config.entity](config)
