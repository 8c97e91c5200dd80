"""How alike two companies (or contacts) are: a score in 0..1 with the reasons a person can check.

The score starts from the name similarity (rapidfuzz on the Latin forms of the normalised names,
so 宁波恒达贸易 meets "Ningbo Heng Da Trading") and adds the evidence of exact keys (same company
email domain or website, phone, tax id) as independent signals:
    score = 1 − (1 − name) · Π(1 − weight of each shared key)
then lowers it for evidence against (other country, other valid tax id, other line of business
with the same brand word: "Hengda Trading" is not "Hengda Machinery"). The weights and the
default threshold (TRADECRM_DEDUP_THRESHOLD = 0.85) are tuned on the labelled set in
tests/data/labelled_companies.csv — `bench/dedup_quality.py` prints the precision and recall.

Profiles (`company_profile`) hold everything the score needs, computed once per record: the
sweep scores millions of pairs and must not normalise a name again for every pair.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio, token_sort_ratio

from .keys import _as_list, _phone_key
from .normalize import (
    GENERIC_WORDS,
    PLACE_WORDS,
    domain_key,
    email_domain_key,
    latin_name,
    normalize_company_name,
    normalize_person_name,
    normalize_tax_id,
    website_host,
)

W_DOMAIN = 0.75  # same company email domain or website
W_PHONE = 0.6
W_EMAIL = 0.8  # same free-mail address
W_TAX = 0.97
OTHER_COUNTRY = 0.7  # factor when both countries are known and differ
OTHER_TAX = 0.4  # both tax ids valid and different: two legal entities
OTHER_TRADE = 0.75  # same brand, different line of business
OTHER_PLACE = 0.85  # "Ningbo Hengda" vs "Shanghai Hengda"


@dataclass(slots=True)
class Profile:
    id: int | None
    names: tuple[str, ...]  # Latin forms of the normalised name and local name, distinct
    cores: tuple[str, ...]
    core_words: tuple[str, ...]  # the core's words, space-separated
    trade: frozenset[str]  # generic (line-of-business) words
    places: frozenset[str]
    country: str
    domains: frozenset[str]
    hosts: frozenset[str]  # website registrable domains (for the reason text)
    email: str  # a free-mail address, else ""
    phones: frozenset[str]
    tax: str
    tax_valid: bool


def company_profile(values: dict) -> Profile:
    names: list[str] = []
    for field in ("name", "name_local"):
        latin = latin_name(normalize_company_name(values.get(field) or ""))
        if latin and latin not in names:
            names.append(latin)
    country = (values.get("country") or "").upper()
    email = (values.get("email") or "").strip().lower()
    domains: set[str] = set()
    free = ""
    if "@" in email:
        d = email_domain_key(email.rsplit("@", 1)[1])
        if d:
            domains.add(d)
        else:
            free = email
    for d in _as_list(values.get("email_domains")):
        d = email_domain_key(d.lower())
        if d:
            domains.add(d)
    hosts: set[str] = set()
    if values.get("website"):
        h = domain_key(website_host(values["website"]))
        if h:
            hosts.add(h)
            domains.add(h)
    phones = frozenset(p for p in (_phone_key(x, country) for x in _as_list(values.get("phones"))) if p)
    tax, tax_valid = normalize_tax_id(values.get("tax_id") or "", country)
    return profile_from_names(
        values.get("id"),
        tuple(names),
        country=country,
        domains=frozenset(domains),
        hosts=frozenset(hosts),
        email=free,
        phones=phones,
        tax=tax,
        tax_valid=tax_valid,
    )


def profile_from_names(pid, names: tuple[str, ...], **evidence) -> Profile:
    """A Profile from the Latin name forms (the rest is derived from them) and the evidence."""
    cores: list[str] = []
    core_words: list[str] = []
    trade: set[str] = set()
    places: set[str] = set()
    for latin in names:
        words = latin.split()
        distinct = [w for w in words if w not in GENERIC_WORDS and w not in PLACE_WORDS] or words
        cores.append("".join(distinct))
        core_words.append(" ".join(distinct))
        trade.update(w for w in words if w in GENERIC_WORDS)
        places.update(w for w in words if w in PLACE_WORDS)
    return Profile(
        pid, names, tuple(cores), tuple(core_words), frozenset(trade), frozenset(places), **evidence
    )


_ORG_WORDS = frozenset({"group", "holding"})


def _pair_similarity(a: str, b: str, core_a: str, core_b: str) -> float:
    """Similarity of two Latin name forms, capped by how alike their distinctive parts are: the
    shared place and trade words of "Ningbo Ocean Star Trading" / "Ningbo Ocean Sky Trading" must
    not carry two different brands over the threshold."""
    if a == b:
        return 1.0
    full = max(token_sort_ratio(a, b), ratio(a.replace(" ", ""), b.replace(" ", ""))) / 100
    if not core_a or not core_b:
        return full
    wa, wb = a.split(), b.split()
    if core_a == core_b:
        trade_a = {w for w in wa if w in GENERIC_WORDS}
        trade_b = {w for w in wb if w in GENERIC_WORDS}
        if (trade_a & _ORG_WORDS) != (trade_b & _ORG_WORDS):
            return min(full, 0.8)  # "Lianfa Group" is the parent, not the trading company
        if (trade_a - trade_b) and (trade_b - trade_a):
            return min(full, 0.8)  # "Precision Tools" / "Precision Machinery": each has its own trade
        # what differs is a place or a generic word: "Hengda Trading" / "Ningbo Hengda Trading"
        return max(full, 0.93)
    core = max(ratio(core_a, core_b), token_sort_ratio(_spaced(wa), _spaced(wb))) / 100
    if min(len(core_a), len(core_b)) >= 6 and Levenshtein.distance(core_a, core_b, score_cutoff=1) <= 1:
        core = max(core, 0.92)  # one typo in a long brand: "Hengda" / "Hengta", not "Acme" / "Acne"
    if _acronym_of(a, b) or _acronym_of(b, a):
        return max(full, 0.85)  # "SGI Import" / "Société Générale d'Importation"
    return min(full, core)


def _spaced(words: list[str]) -> str:
    return " ".join(w for w in words if w not in GENERIC_WORDS and w not in PLACE_WORDS) or " ".join(words)


def _acronym_of(short: str, long: str) -> bool:
    """True when the first word of `short` is the initials of `long`'s first words (3+ letters)."""
    head = short.split(" ", 1)[0]
    words = long.split()
    if not 3 <= len(head) <= 6 or len(words) < len(head):
        return False
    return "".join(w[0] for w in words[: len(head)]) == head


def name_similarity(a: Profile, b: Profile) -> float:
    best = 0.0
    for na, ca in zip(a.names, a.cores, strict=True):
        for nb, cb in zip(b.names, b.cores, strict=True):
            s = _pair_similarity(na, nb, ca, cb)
            if s > best:
                best = s
                if best == 1.0:
                    return best
    return best


def _reason_text(code: str, p: dict, masked: bool = False) -> str:
    if masked and code in ("email", "phone"):
        from tradecrm.customers.masking import mask_email, mask_phone

        p = {**p, "value": (mask_email if code == "email" else mask_phone)(str(p.get("value") or ""))}
    if code == "tax":
        if not p.get("value"):  # stored reasons keep no tax id (see `storable_reasons`)
            return _("same tax id")
        return _("same tax id %(tax)s") % {"tax": p["value"]}
    if code == "website":
        return _("same website %(host)s") % {"host": p["value"]}
    if code == "domain":
        return _("same email domain %(domain)s") % {"domain": p["value"]}
    if code == "email":
        return _("same email address %(email)s") % {"email": p["value"]}
    if code == "phone":
        return _("same phone %(phone)s") % {"phone": p["value"]}
    if code == "name":
        return _("name similarity %(score).2f") % {"score": p["value"]}
    if code == "same_company":
        return _("same company")
    if code == "trade":
        return _("different line of business (%(a)s / %(b)s)") % p
    if code == "place":
        return _("different place in the name (%(a)s / %(b)s)") % p
    if code == "country":
        return _("different countries (%(a)s / %(b)s)") % p
    if code == "other_tax":
        return _("different tax ids")
    return str(p.get("value", code))


def storable_reasons(reasons: list[dict]) -> list[dict]:
    """Reasons as stored with a pair: without the tax id, which is encrypted at rest and must not
    sit in plain JSON next to it (the records themselves show it to whoever may open them)."""
    return [{"code": "tax"} if r.get("code") == "tax" else r for r in reasons]


def reason_texts(reasons: list, *, masked: bool = False) -> list[str]:
    """Stored reasons ({"code": …, …}, as the sweep keeps them so that each reader sees them in
    their own language) as translated sentences; plain strings pass through. `masked`: the
    email address and phone in them are masked (a viewer whose role may not "reveal")."""
    return [r if isinstance(r, str) else _reason_text(r.get("code", ""), r, masked) for r in reasons or ()]


def score_profiles_raw(a: Profile, b: Profile) -> tuple[float, list[dict]]:
    """(score, reasons as {"code", …} dicts, language-neutral) of two profiles."""
    reasons: list[dict] = []
    name = name_similarity(a, b) if a.names and b.names else 0.0
    missing = 1.0 - name
    same_tax = bool(a.tax) and a.tax == b.tax
    if same_tax:
        missing *= 1 - W_TAX
        reasons.append({"code": "tax", "value": a.tax})
    shared_domains = a.domains & b.domains
    if shared_domains:
        missing *= 1 - W_DOMAIN
        d = min(shared_domains)
        reasons.append({"code": "website" if d in a.hosts and d in b.hosts else "domain", "value": d})
    same_email = bool(a.email) and a.email == b.email
    if same_email:
        missing *= 1 - W_EMAIL
        reasons.append({"code": "email", "value": a.email})
    shared_phones = a.phones & b.phones
    if shared_phones:
        missing *= 1 - W_PHONE
        reasons.append({"code": "phone", "value": min(shared_phones)})
    if a.names and b.names:
        reasons.append({"code": "name", "value": round(name, 2)})
    score = 1.0 - missing
    strong = bool(shared_domains or shared_phones or same_tax or same_email)
    # a shared phone is no proof against a different business: group companies share switchboards
    if not (shared_domains or same_tax or same_email):
        if (a.trade - b.trade) and (b.trade - a.trade) and not (a.trade & b.trade):
            score *= OTHER_TRADE
            reasons.append(
                {"code": "trade", "a": ", ".join(sorted(a.trade)), "b": ", ".join(sorted(b.trade))}
            )
        if a.places and b.places and not (a.places & b.places):
            score *= OTHER_PLACE
            reasons.append(
                {"code": "place", "a": ", ".join(sorted(a.places)), "b": ", ".join(sorted(b.places))}
            )
    if a.country and b.country and a.country != b.country:
        score *= OTHER_COUNTRY if not strong else 0.95
        reasons.append({"code": "country", "a": a.country, "b": b.country})
    if a.tax_valid and b.tax_valid and a.tax != b.tax:
        score *= OTHER_TAX
        reasons.append({"code": "other_tax"})
    return round(min(score, 1.0), 4), reasons


def score_profiles(a: Profile, b: Profile) -> tuple[float, list[str]]:
    """(score, translated reasons) of two profiles, in the order a reader checks them."""
    score, reasons = score_profiles_raw(a, b)
    return score, reason_texts(reasons)


def score_companies(a: dict, b: dict) -> tuple[float, list[str]]:
    """0..1 and translated reasons ("same email domain acme.de", "name similarity 0.93")."""
    return score_profiles(company_profile(a), company_profile(b))


# ---------------------------------------------------------------------------------------------
# contacts


@dataclass(slots=True)
class ContactProfile:
    id: int | None
    company_id: int | None
    name: str
    emails: frozenset[str]
    phones: frozenset[str]


def contact_profile(values: dict) -> ContactProfile:
    emails = [e.strip().lower() for e in _as_list(values.get("emails")) if "@" in e]
    if values.get("email") and "@" in values["email"]:
        emails.append(values["email"].strip().lower())
    country = (values.get("country") or "").upper()
    phones = {
        _phone_key(p, country) for p in [*_as_list(values.get("phones")), values.get("whatsapp") or ""] if p
    }
    return ContactProfile(
        values.get("id"),
        values.get("company_id"),
        normalize_person_name(
            values.get("first_name") or "", values.get("last_name") or "", values.get("name_local") or ""
        ),
        frozenset(emails),
        frozenset(p for p in phones if p),
    )


def score_contact_profiles_raw(a: ContactProfile, b: ContactProfile) -> tuple[float, list[dict]]:
    reasons: list[dict] = []
    name = ratio(a.name, b.name) / 100 if a.name and b.name else 0.0
    same_company = a.company_id is not None and a.company_id == b.company_id
    # a name is weak evidence across companies ("Wei Zhang"), strong within one
    missing = 1.0 - (name if same_company else name * 0.6)
    shared_emails = a.emails & b.emails
    if shared_emails:
        missing *= 1 - 0.9
        reasons.append({"code": "email", "value": min(shared_emails)})
    shared_phones = a.phones & b.phones
    if shared_phones:
        missing *= 1 - 0.7
        reasons.append({"code": "phone", "value": min(shared_phones)})
    if a.name and b.name:
        reasons.append({"code": "name", "value": round(name, 2)})
        if same_company:
            reasons.append({"code": "same_company"})
    score = 1.0 - missing
    if a.name and b.name and name < 0.5 and not shared_emails:
        score *= 0.8  # a shared switchboard number does not make two people one
    return round(score, 4), reasons


def score_contact_profiles(a: ContactProfile, b: ContactProfile) -> tuple[float, list[str]]:
    score, reasons = score_contact_profiles_raw(a, b)
    return score, reason_texts(reasons)


def score_contacts(a: dict, b: dict) -> tuple[float, list[str]]:
    return score_contact_profiles(contact_profile(a), contact_profile(b))
