"""Contact masking: phones and emails shown partly (`+49 ***** 6789`, `j***@acme.de`) to users
whose role may not "reveal" them, in pages, the API, exports and search results.

Masked values always contain "***", which no stored phone or email can: a masked value sent
back unchanged (an edit form, an API client that read, changed one field and wrote back) is
mapped to the stored value it stands for (`unmask_changes`), so it never overwrites it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import phonenumbers

from tradecrm.core.phones import display_phone

STARS = "*****"
MASK_MARK = "***"
# keys of rows / API objects holding phones or emails (companies, contacts, inquiries)
PHONE_KEYS = frozenset({"phones", "whatsapp", "buyer_phone", "contact_phone"})
EMAIL_KEYS = frozenset({"email", "emails", "buyer_email", "contact_email"})
MASKED_KEYS = PHONE_KEYS | EMAIL_KEYS


@functools.lru_cache(maxsize=65536)
def mask_phone(value: str) -> str:
    """`+4930123456789` → `+49 ***** 6789`: the country code (by phonenumbers) and the last 4.
    Remembered: parsing costs ~0.1 ms a number, and a list page shows the same ones again."""
    value = (value or "").strip()
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    try:
        num = phonenumbers.parse(value, None)
        cc = f"+{num.country_code} "
        digits = str(num.national_number)
    except phonenumbers.NumberParseException:
        cc = ""
    if len(digits) <= 4:
        return f"{cc}{STARS}"
    return f"{cc}{STARS} {digits[-4:]}"


def mask_email(value: str) -> str:
    """`john@acme.de` → `j***@acme.de`: the first letter and the domain."""
    value = (value or "").strip()
    if not value:
        return ""
    local, at, domain = value.partition("@")
    if not at:
        return f"{value[:1]}{MASK_MARK}"
    return f"{local[:1]}{MASK_MARK}@{domain}"


def _mask_one(key: str, value):
    fn = mask_phone if key in PHONE_KEYS else mask_email
    if isinstance(value, list | tuple):
        return [fn(v) for v in value]
    if isinstance(value, str):
        return fn(value)
    return value


def mask_row(row: dict, keys: Iterable[str] = MASKED_KEYS) -> dict:
    """Mask, in place, the phone and email values of a row dict (a list page, an API object, an
    export page). Other keys are left alone."""
    for key in keys:
        if key in row and row[key]:
            row[key] = _mask_one(key, row[key])
    return row


def mask_rows(rows: Iterable[dict], keys: Iterable[str] = MASKED_KEYS) -> None:
    keys = [k for k in keys]
    for row in rows:
        mask_row(row, keys)


def is_masked(value: str) -> bool:
    return MASK_MARK in (value or "")


def _stored_pairs(key: str, stored) -> list[tuple[str, str]]:
    """(masked form, value to send back) for each stored value of a field."""
    values = stored if isinstance(stored, list | tuple) else [stored]
    out = []
    for v in values:
        if not v:
            continue
        if key in PHONE_KEYS:
            out.append((mask_phone(v), v))
        else:
            out.append((mask_email(v), v))
    return out


def unmask_value(key: str, value, stored):
    """`value` as submitted, with each masked item that stands for a stored one put back.
    Lists map item by item; text (a form's lines) is replaced in place, in stored order, each
    stored value once, so two numbers with the same mask keep their own values."""
    pairs = _stored_pairs(key, stored)
    if not pairs:
        return value
    if isinstance(value, list | tuple):
        out, left = [], list(pairs)
        for item in value:
            if isinstance(item, str) and is_masked(item):
                hit = next((p for p in left if p[0] == item.strip()), None)
                if hit is not None:
                    left.remove(hit)
                    out.append(hit[1])
                    continue
            out.append(item)
        return out
    if isinstance(value, str) and is_masked(value):
        for masked, real in pairs:
            if masked in value:
                shown = display_phone(real) if key in PHONE_KEYS and real.startswith("+") else real
                value = value.replace(masked, shown, 1)
        return value
    return value


def unmask_changes(data: dict, obj, fields: Iterable[str]) -> dict:
    """A copy of `data` where masked values of `fields` are the stored values of `obj` again."""
    if not any(f in data for f in fields):
        return data
    data = dict(data)
    for f in fields:
        if f in data:
            data[f] = unmask_value(f, data[f], getattr(obj, f, None))
    return data


def mask_value(key: str, value):
    """One field's value masked by its kind (`key` in PHONE_KEYS is a phone, else an email); lists
    item by item; anything else unchanged."""
    return _mask_one(key, value)


def mask_phone_text(value: str) -> str:
    """A phone as text (a call's number, a chat handle), masked; empty stays empty."""
    return mask_phone(value) if value else value


def mask_address_text(value: str) -> str:
    """An address line as mail shows it — `a@x.de`, `Ann <a@x.de>`, several separated by commas —
    with every address masked and the display names kept."""
    if not value or "@" not in value:
        return value
    from email.utils import getaddresses

    parts = []
    for name, addr in getaddresses([value]):
        if not addr:
            continue
        shown = mask_email(addr) if "@" in addr else addr
        parts.append(f"{name} <{shown}>" if name else shown)
    return ", ".join(parts) if parts else mask_email(value)


def masker_for(user):
    """A function masking (key, value) for this viewer, or one returning the value unchanged for
    the roles that may "reveal" — so a page loops once and never asks the role per value."""
    from tradecrm.accounts.access import can_reveal

    if can_reveal(user):
        return lambda key, value: value
    return _mask_one


def unmask_single(data: dict, obj, fields: Iterable[str]) -> dict:
    """Like `unmask_changes` for one-value text fields kept as typed (an inquiry's buyer email and
    phone): a masked value equal to the stored value's mask is the stored value, unchanged."""
    out = None
    for f in fields:
        value, stored = data.get(f), getattr(obj, f, "") or ""
        if isinstance(value, str) and is_masked(value) and stored and value.strip() == _mask_one(f, stored):
            out = out if out is not None else dict(data)
            out[f] = stored
    return data if out is None else out
