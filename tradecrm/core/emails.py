from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email


def normalize_email(raw: str) -> str:
    """Validate syntax (no DNS lookups: offline and fast) and return the normalized address."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid email address: %(reason)s"),
            code="email_invalid", params={"value": raw, "reason": str(exc)},
        ) from None
    return info.normalized.lower()


def normalize_domain(raw: str) -> str:
    d = (raw or "").strip().lower().removeprefix("http://").removeprefix("https://").removeprefix("www.").strip("/")
    if "@" in d:
        d = d.split("@", 1)[1]
    if not d:
        return ""
    try:
        validate_email(f"x@{d}", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_("“%(value)s” is not a valid domain name."), code="domain_invalid", params={"value": raw}) from None
    return d
