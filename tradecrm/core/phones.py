"""Phone numbers: stored as E.164, shown in international format, validated by phonenumbers."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str, default_region: str = "") -> str:
    """Return E.164 for a phone typed in any common format, or raise ValidationError."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    region = (default_region or "").upper() or None
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        if not region and not raw.startswith("+"):
            raise ValidationError(
                _("“%(value)s” has no country code: start it with + or choose the country first."),
                code="phone_region", params={"value": raw},
            ) from None
        raise ValidationError(_("“%(value)s” is not a phone number."), code="phone_invalid", params={"value": raw}) from None
    if not phonenumbers.is_valid_number(num):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number for its country."), code="phone_invalid", params={"value": raw}
        )
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def phone_region(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
