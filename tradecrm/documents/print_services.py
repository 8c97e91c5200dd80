"""The printed side of trade documents: the seller's letterhead and bank accounts, the PDF
templates an administrator adjusts, and the PDF of a quotation or proforma invoice.

    document_pdf(quotation, language="zh-hans") -> bytes

An issued document is printed from its snapshot (frozen at issue), through the active template
of its kind and language (an administrator's DocumentTemplate, else the built-in file), and the
bytes are cached: the cache key names the document, its number and revision, the language, the
template and its version, and a fingerprint of the built-in layouts, so nothing stale is ever
served. A draft is printed from a snapshot built now, with a “DRAFT / 草稿” watermark, and never
cached.

Letterhead, bank accounts and templates are changed by administrators only; everyone signed in
reads them (documents need them). One function per change, each with its audit event.
"""

from __future__ import annotations

import functools
import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tradecrm.audit.services import audit_record
from tradecrm.catalog.models import Unit
from tradecrm.core import geo, money
from tradecrm.core.errors import ConcurrentEditError, Errors
from tradecrm.core.uploads import check_upload, file_error

from . import pdf, services
from .models import (
    EDITABLE_STATUSES,
    BankAccount,
    DocumentLanguage,
    DocumentTemplate,
    PaymentTerms,
    ProformaInvoice,
    Quotation,
    SellerProfile,
)

KINDS = ("quotation", "proforma")
BUILTIN_TEMPLATES = {
    "quotation": "documents/pdf/quotation.html",
    "proforma": "documents/pdf/proforma.html",
}
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Bumped when snapshot_context changes what it gives the templates: cached PDFs are then rebuilt.
ADAPTER_VERSION = 1
# Printed across every page of a draft, whatever the template: a draft must never pass for an
# issued document. Deliberately in both scripts in every language, like a rubber stamp.
DRAFT_MARK = "DRAFT / 草稿"
WATERMARK_HTML = (
    '<div style="position: fixed; top: 95mm; left: 0; width: 100%; text-align: center; '
    "font-family: 'Noto Sans CJK SC', sans-serif; font-size: 54pt; font-weight: bold; "
    'color: #d9534f; opacity: .22; transform: rotate(-28deg)">' + DRAFT_MARK + "</div>"
)

LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP", "image/gif": "GIF"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
TEMPLATE_MAX_CHARS = 200_000
TEXT_MAX = 2000

SWIFT_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
# Country codes SWIFT uses beyond ISO 3166 (Kosovo).
SWIFT_EXTRA_COUNTRIES = frozenset({"XK"})


# --- who may change what ------------------------------------------------------------------------


def can_manage_print(user) -> bool:
    """Letterhead, bank accounts and document templates are an administrator's business."""
    return bool(getattr(user, "is_admin", False))


def require_print_admin(actor) -> None:
    if actor is not None and not can_manage_print(actor):
        raise PermissionDenied(
            _("Only an administrator may change the company details, bank accounts and document templates.")
        )


def _by(actor):
    return actor if getattr(actor, "pk", None) else None


def _conflict(model, pk: int) -> ConcurrentEditError:
    current = model.objects.filter(pk=pk).first()
    if current is None:
        from django.http import Http404

        raise Http404
    by = getattr(current, "updated_by", None)
    return ConcurrentEditError(
        by=str(by) if by else "?", at=current.updated_at, current_version=current.version
    )


def _text(
    data: dict, name: str, limit: int, errors: Errors, *, required: bool = False, label: str = ""
) -> str:
    raw = data.get(name)
    value = "" if raw is None else raw
    if not isinstance(value, str):
        errors.add(name, _("Enter text."))
        return ""
    value = value.replace("\r\n", "\n").strip()
    if "\x00" in value:
        errors.add(name, _("Null characters are not allowed."))
        return ""
    if required and not value:
        errors.add(name, _("Enter the %(field)s.") % {"field": label or name})
    elif len(value) > limit:
        errors.add(name, _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit,
                                                                                    "length": len(value)})  # fmt: skip
    return value


def _bool(data: dict, name: str, errors: Errors) -> bool:
    value = data.get(name)
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "False", "off"):
        return False
    if value in ("1", "true", "True", "on"):
        return True
    errors.add(name, _("Enter true or false."))
    return False


def _changes(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


# --- where a seller profile or bank account is used ---------------------------------------------


def _references(targets: dict[type[models.Model], list[int]]) -> tuple[list[str], int]:
    """(numbers of issued documents, count of unnumbered drafts) pointing at any of the `targets`
    rows ({model: [pk, …]}): quotations, proforma invoices, orders, found from the model registry
    (their foreign keys are PROTECT). A document pointing at several counts once."""
    numbers: list[str] = []
    drafts = 0
    for model in apps.get_models():
        if model is BankAccount:
            continue  # a seller's own accounts go with it
        match = models.Q()
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and targets.get(f.related_model):
                match |= models.Q(**{f"{f.attname}__in": targets[f.related_model]})
        if not match:
            continue
        qs = model._base_manager.filter(match)
        if any(x.name == "number" for x in model._meta.concrete_fields):
            numbers += list(qs.exclude(number="").order_by("-id").values_list("number", flat=True)[:5])
            drafts += qs.filter(number="").count()
        else:
            drafts += qs.count()
    return numbers, drafts


def _usage_error(
    field: str, name: str, numbers: list[str], drafts: int, *, kind: str
) -> ValidationError | None:
    if numbers:
        if kind == "seller":
            message = _(
                "“%(name)s” is printed on issued documents (%(numbers)s); it is kept for the record and "
                "cannot be deleted."
            )
        else:
            message = _(
                "The bank account “%(name)s” is printed on issued documents (%(numbers)s); it is kept for the "
                "record and cannot be deleted. Switch it off instead, so it is not offered any more."
            )
        return ValidationError({field: [message % {"name": name, "numbers": ", ".join(numbers[:5])}]})
    if drafts:
        message = ngettext(
            "“%(name)s” is chosen on %(count)d draft document; choose another one there first.",
            "“%(name)s” is chosen on %(count)d draft documents; choose another one there first.",
            drafts,
        )
        return ValidationError({field: [message % {"name": name, "count": drafts}]})
    return None


# --- seller profiles (letterhead) ---------------------------------------------------------------

SELLER_TEXT = {
    "name_en": 255, "name_zh": 255, "address_en": TEXT_MAX, "address_zh": TEXT_MAX, "phone": 64, "email": 254,
    "website": 255, "tax_id": 64,
}  # fmt: skip
SELLER_FIELDS = (*SELLER_TEXT, "is_default")


def clean_seller(data: dict, *, partial: bool = False) -> dict:
    """The seller profile's fields from `data` (only those present when `partial`), or a
    ValidationError naming every bad field."""
    errors = Errors()
    out: dict[str, Any] = {}
    for name, limit in SELLER_TEXT.items():
        if partial and name not in data:
            continue
        out[name] = _text(data, name, limit, errors, required=name == "name_en",
                          label=_("company name (English)"))  # fmt: skip
    if out.get("email") and "email" not in errors.by_field:
        try:
            validate_email(out["email"])
        except ValidationError:
            errors.add("email", _("“%(value)s” is not an email address.") % {"value": out["email"]})
    if not partial or "is_default" in data:
        out["is_default"] = _bool(data, "is_default", errors)
    errors.raise_if_any()
    return out


def check_logo(upload) -> dict:
    """A letterhead logo: PNG, JPEG, WebP or GIF (sniffed from the bytes), at most 2 MB."""
    meta = check_upload(upload, limit=LOGO_MAX_BYTES)
    if meta["content_type"] not in LOGO_TYPES:
        raise file_error(
            _("“%(name)s” is not an image: upload the logo as PNG, JPEG, WebP or GIF.")
            % {"name": meta["name"]},
            "logo",
        )
    return meta


def _check_logo_field(upload) -> dict:
    try:
        return check_logo(upload)
    except ValidationError as exc:
        # core.uploads names the field "file"; here it is the logo
        raise ValidationError({"logo": exc.messages}) from None


def _store_logo(upload, meta: dict) -> str:
    return default_storage.save(f"letterhead/{meta['name']}", upload)


def _make_default_seller(seller_pk: int, actor) -> None:
    SellerProfile.objects.filter(is_default=True).exclude(pk=seller_pk).update(
        is_default=False, version=F("version") + 1, updated_at=timezone.now(), updated_by=_by(actor)
    )


@transaction.atomic
def seller_create(*, actor, data: dict, logo=None) -> SellerProfile:
    """A seller profile (letterhead): names and addresses in English and Chinese, phone, email,
    website, tax number, logo. The first one is the default; `is_default` makes this one it."""
    require_print_admin(actor)
    errors = Errors()
    clean: dict = {}
    meta = None
    try:
        clean = clean_seller(data)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for m in messages:
                errors.add(name, m)
    if logo is not None:
        try:
            meta = _check_logo_field(logo)
        except ValidationError as exc:
            errors.add("logo", exc.messages[0])
    errors.raise_if_any()
    SellerProfile.objects.select_for_update().filter(is_default=True).first()  # one default at a time
    if not SellerProfile.objects.filter(is_default=True).exists():
        clean["is_default"] = True
    if clean["is_default"]:
        _make_default_seller(0, actor)
    seller = SellerProfile(**clean, updated_by=_by(actor))
    stored = _store_logo(logo, meta) if meta else ""
    try:
        seller.logo = stored
        seller.save()
        audit_record(actor=actor, action="seller.create", obj=seller,
                     changes={**clean, "logo": stored})  # fmt: skip
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    return seller


@transaction.atomic
def seller_update(
    *, actor, seller: SellerProfile, version: int, data: dict, logo=None, remove_logo: bool = False
) -> SellerProfile:
    """Change the fields in `data`, replace the logo (`logo`, an upload) or remove it. Issued
    documents keep what they printed (their snapshot); the old logo file stays for them."""
    require_print_admin(actor)
    errors = Errors()
    clean: dict = {}
    meta = None
    try:
        clean = clean_seller(data, partial=True)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for m in messages:
                errors.add(name, m)
    if logo is not None:
        try:
            meta = _check_logo_field(logo)
        except ValidationError as exc:
            errors.add("logo", exc.messages[0])
    if clean.get("is_default") is False and seller.is_default:
        errors.add(
            "is_default",
            _("There must be a default seller profile: mark another one as the default instead."),
        )
    errors.raise_if_any()
    if seller.version != version:
        raise _conflict(SellerProfile, seller.pk)
    before = {k: getattr(seller, k) for k in clean}
    before["logo"] = seller.logo.name if seller.logo else ""
    fields = dict(clean)
    stored = ""
    if meta:
        stored = _store_logo(logo, meta)
        fields["logo"] = stored
    elif remove_logo:
        fields["logo"] = ""
    try:
        if clean.get("is_default"):
            _make_default_seller(seller.pk, actor)
        now = timezone.now()
        updated = SellerProfile.objects.filter(pk=seller.pk, version=version).update(
            **fields, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
        )
        if not updated:
            raise _conflict(SellerProfile, seller.pk)
        for k, v in fields.items():
            setattr(seller, k, v)
        seller.version = version + 1
        seller.updated_at = now
        seller.updated_by = _by(actor)
        after = {**clean, **({"logo": fields["logo"]} if "logo" in fields else {})}
        audit_record(actor=actor, action="seller.update", obj=seller, changes=_changes(before, after))
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    return seller


@transaction.atomic
def seller_delete(*, actor, seller: SellerProfile) -> None:
    """Delete a seller profile with its bank accounts; refused while a document uses it or one of
    its accounts (issued ones keep them for the record). Another profile becomes the default."""
    require_print_admin(actor)
    accounts = list(seller.bank_accounts.values_list("pk", flat=True))
    numbers, drafts = _references({SellerProfile: [seller.pk], BankAccount: accounts})
    error = _usage_error("seller", seller.name_en, numbers, drafts, kind="seller")
    if error is not None:
        raise error
    was_default = seller.is_default
    audit_record(actor=actor, action="seller.delete", obj=seller,
                 changes={"name_en": seller.name_en, "bank_accounts": len(accounts)})  # fmt: skip
    seller.delete()
    if was_default:
        nxt = SellerProfile.objects.order_by("id").first()
        if nxt is not None:
            SellerProfile.objects.filter(pk=nxt.pk).update(is_default=True, version=F("version") + 1,
                                                           updated_at=timezone.now())  # fmt: skip


# --- bank accounts ------------------------------------------------------------------------------

BANK_TEXT = {
    "label": 120, "beneficiary": 255, "beneficiary_address": TEXT_MAX, "bank_name": 255,
    "bank_address": TEXT_MAX, "account_number": 64, "intermediary_bank": TEXT_MAX,
}  # fmt: skip
BANK_REQUIRED = {"beneficiary", "bank_name", "account_number"}
BANK_FIELDS = (*BANK_TEXT, "currency", "swift", "iban", "is_default", "active")


def _required_label(name: str) -> str:
    return {
        "beneficiary": _("beneficiary"),
        "bank_name": _("bank's name"),
        "account_number": _("account number"),
    }.get(name, name)


def swift_error(value: str) -> str:
    """Why `value` (spaces removed, upper case) is not a SWIFT/BIC code; "" when it is one."""
    if len(value) not in (8, 11):
        return _("A SWIFT/BIC code has 8 or 11 characters; “%(value)s” has %(length)d.") % {
            "value": value, "length": len(value)}  # fmt: skip
    if not SWIFT_RE.match(value):
        return _(
            "“%(value)s” is not a SWIFT/BIC code: 4 letters for the bank, 2 for the country, 2 letters or digits "
            "for the place and optionally 3 for the branch, e.g. BKCHCNBJ or BKCHCNBJ92A."
        ) % {"value": value}
    country = value[4:6]
    if country not in geo.country_codes() and country not in SWIFT_EXTRA_COUNTRIES:
        return _("“%(value)s” is not a SWIFT/BIC code: “%(country)s” (letters 5–6) is not a country code.") % {
            "value": value, "country": country}  # fmt: skip
    return ""


def iban_error(value: str) -> str:
    """Why `value` (spaces removed, upper case) is not an IBAN; "" when its check digits add up."""
    if not IBAN_RE.match(value):
        return _(
            "“%(value)s” is not an IBAN: two letters for the country, two check digits, then 11 to 30 letters "
            "or digits, e.g. DE89 3704 0044 0532 0130 00."
        ) % {"value": value}
    digits = "".join(str(int(ch, 36)) for ch in value[4:] + value[:4])
    if int(digits) % 97 != 1:
        return _("The IBAN “%(value)s” has wrong check digits: look for a typing error.") % {"value": value}
    return ""


def _compact(value: str) -> str:
    return re.sub(r"[\s-]+", "", value).upper()


def clean_bank_account(data: dict, *, partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    for name, limit in BANK_TEXT.items():
        if partial and name not in data:
            continue
        out[name] = _text(
            data, name, limit, errors, required=name in BANK_REQUIRED, label=_required_label(name)
        )
    if not partial or "currency" in data:
        raw = data.get("currency")
        code = raw.strip().upper() if isinstance(raw, str) else raw
        if not code:
            errors.add("currency", _("Choose the currency the account receives."))
        elif not isinstance(code, str) or not money.is_currency(code):
            errors.add("currency", _("“%(value)s” is not a currency code; use the three-letter ISO 4217 code, "
                                     "e.g. USD, EUR, CNY.") % {"value": raw})  # fmt: skip
        else:
            out["currency"] = code
    if not partial or "swift" in data:
        raw = data.get("swift")
        code = _compact(raw) if isinstance(raw, str) else ""
        if not code:
            errors.add("swift", _("Enter the bank's SWIFT/BIC code: buyers abroad cannot pay without it."))
        elif message := swift_error(code):
            errors.add("swift", message)
        else:
            out["swift"] = code
    if not partial or "iban" in data:
        raw = data.get("iban")
        code = _compact(raw) if isinstance(raw, str) else ""
        if code and (message := iban_error(code)):
            errors.add("iban", message)
        else:
            out["iban"] = code
    for name in ("is_default", "active"):
        if not partial or name in data:
            out[name] = _bool(data, name, errors) if name in data else name == "active"
    errors.raise_if_any()
    return out


def _settle_defaults(seller_id: int, currency: str, *, keep: int | None = None) -> None:
    """One default among the seller's active accounts in `currency`: `keep` (already written as
    the default) takes it from the others; without `keep`, the oldest active account becomes the
    default when none is."""
    qs = BankAccount.objects.filter(seller_id=seller_id, currency=currency)
    now = timezone.now()
    if keep is not None:
        qs.filter(is_default=True).exclude(pk=keep).update(
            is_default=False, version=F("version") + 1, updated_at=now
        )
        return
    if qs.filter(active=True, is_default=True).exists():
        return
    first = qs.filter(active=True).order_by("id").values_list("pk", flat=True).first()
    if first is not None:
        qs.filter(pk=first).update(is_default=True, version=F("version") + 1, updated_at=now)


def _has_default(seller_id: int, currency: str, exclude: int | None = None) -> bool:
    qs = BankAccount.objects.filter(seller_id=seller_id, currency=currency, active=True, is_default=True)
    return qs.exclude(pk=exclude).exists() if exclude else qs.exists()


@transaction.atomic
def bank_account_create(*, actor, seller: SellerProfile, data: dict) -> BankAccount:
    """An account the buyer pays into: currency, beneficiary, bank, SWIFT/BIC (8 or 11
    characters), account number, IBAN (checked when given). The first active account in a
    currency is its default; `is_default` makes this one the default for its currency."""
    require_print_admin(actor)
    clean = clean_bank_account(data)
    SellerProfile.objects.select_for_update().filter(pk=seller.pk).first()  # defaults settle one at a time
    clean["is_default"] = clean["active"] and (
        clean["is_default"] or not _has_default(seller.pk, clean["currency"])
    )
    account = BankAccount.objects.create(seller=seller, **clean)
    if account.is_default:
        _settle_defaults(seller.pk, account.currency, keep=account.pk)
    audit_record(actor=actor, action="bank_account.create", obj=account,
                 changes={"seller": seller.pk, **clean})  # fmt: skip
    return account


@transaction.atomic
def bank_account_update(*, actor, account: BankAccount, version: int, data: dict) -> BankAccount:
    """Change the fields in `data`. Issued proforma invoices keep the details they printed. A
    switched-off account stops being the default; the next active one in its currency takes over."""
    require_print_admin(actor)
    clean = clean_bank_account(data, partial=True)
    SellerProfile.objects.select_for_update().filter(pk=account.seller_id).first()
    if account.version != version:
        raise _conflict(BankAccount, account.pk)
    before = {k: getattr(account, k) for k in clean}
    old_currency = account.currency
    currency = clean.get("currency", old_currency)
    if not clean.get("active", account.active):
        clean["is_default"] = False
    elif "is_default" not in clean and currency != old_currency:
        clean["is_default"] = not _has_default(account.seller_id, currency, exclude=account.pk)
    now = timezone.now()
    updated = BankAccount.objects.filter(pk=account.pk, version=version).update(
        **clean, version=F("version") + 1, updated_at=now
    )
    if not updated:
        raise _conflict(BankAccount, account.pk)
    is_default = clean.get("is_default", account.is_default)
    _settle_defaults(account.seller_id, currency, keep=account.pk if is_default else None)
    if old_currency != currency:
        _settle_defaults(account.seller_id, old_currency)
    account.refresh_from_db()
    audit_record(actor=actor, action="bank_account.update", obj=account, changes=_changes(before, clean))
    return account


@transaction.atomic
def bank_account_delete(*, actor, account: BankAccount) -> None:
    """Delete an account no document uses (switch it off otherwise)."""
    require_print_admin(actor)
    numbers, drafts = _references({BankAccount: [account.pk]})
    error = _usage_error("bank_account", str(account), numbers, drafts, kind="bank")
    if error is not None:
        raise error
    audit_record(actor=actor, action="bank_account.delete", obj=account,
                 changes={"seller": account.seller_id, "currency": account.currency, "swift": account.swift})  # fmt: skip
    seller_id, currency = account.seller_id, account.currency
    account.delete()
    _settle_defaults(seller_id, currency)


# --- document templates -------------------------------------------------------------------------


def builtin_template_source(kind: str) -> str:
    """The text of the built-in template file of `kind` ("quotation" or "proforma")."""
    return (TEMPLATE_DIR / BUILTIN_TEMPLATES[kind]).read_text(encoding="utf-8")


@functools.cache
def layout_fingerprint() -> str:
    """Changes when a built-in layout file (or the adapter) changes: part of every cache key, so
    an upgrade never serves a PDF made with the old layout."""
    digest = hashlib.sha256(str(ADAPTER_VERSION).encode())
    for name in ("documents/pdf/base.html", *BUILTIN_TEMPLATES.values()):
        digest.update((TEMPLATE_DIR / name).read_bytes())
    return digest.hexdigest()[:10]


def clean_template(data: dict, *, partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    if not partial or "kind" in data:
        if data.get("kind") not in KINDS:
            errors.add("kind", _("Choose quotation or proforma invoice."))
        else:
            out["kind"] = data["kind"]
    if not partial or "language" in data:
        if data.get("language") not in DocumentLanguage.values:
            errors.add("language", _("Choose English, Chinese or English and Chinese."))
        else:
            out["language"] = data["language"]
    if not partial or "name" in data:
        out["name"] = _text(data, "name", 120, errors, required=True, label=_("name"))
    if not partial or "source" in data:
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            errors.add("source", _("The template is empty."))
        elif len(source) > TEMPLATE_MAX_CHARS:
            errors.add("source", _("At most %(limit)d characters (this has %(length)d).") % {
                "limit": TEMPLATE_MAX_CHARS, "length": len(source)})  # fmt: skip
        elif "\x00" in source:
            errors.add("source", _("Null characters are not allowed."))
        else:
            for message in pdf.check_template_source(source):
                errors.add("source", message)
            out["source"] = source.replace("\r\n", "\n")
    if "active" in data:
        out["active"] = _bool(data, "active", errors)
    errors.raise_if_any()
    return out


def _deactivate_others(template: DocumentTemplate, actor) -> None:
    DocumentTemplate.objects.filter(kind=template.kind, language=template.language, active=True).exclude(
        pk=template.pk
    ).update(active=False, version=F("version") + 1, updated_at=timezone.now(), updated_by=_by(actor))


@transaction.atomic
def template_create(*, actor, data: dict) -> DocumentTemplate:
    """A template (Django template language) for one kind and language; refused with the reasons
    of `pdf.check_template_source` on `source`, and nothing saved. `active` puts it in use (the
    one in use for that kind and language before is switched off)."""
    require_print_admin(actor)
    clean = clean_template(data)
    template = DocumentTemplate(**clean, updated_by=_by(actor))
    if template.active:
        _deactivate_others(template, actor)
    template.save()
    audit_record(actor=actor, action="document_template.create", obj=template,
                 changes={"kind": template.kind, "language": template.language, "name": template.name,
                          "active": template.active, "chars": len(template.source)})  # fmt: skip
    return template


@transaction.atomic
def template_update(*, actor, template: DocumentTemplate, version: int, data: dict) -> DocumentTemplate:
    """Change name, source, kind, language or `active`; a bad source is refused and nothing is
    saved. The new version makes new PDF cache keys."""
    require_print_admin(actor)
    clean = clean_template(data, partial=True)
    if template.version != version:
        raise _conflict(DocumentTemplate, template.pk)
    before = {k: getattr(template, k) for k in clean if k != "source"}
    for k, v in clean.items():
        setattr(template, k, v)
    if template.active:
        _deactivate_others(template, actor)
    now = timezone.now()
    updated = DocumentTemplate.objects.filter(pk=template.pk, version=version).update(
        **clean, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
    )
    if not updated:
        raise _conflict(DocumentTemplate, template.pk)
    template.version = version + 1
    template.updated_at = now
    template.updated_by = _by(actor)
    changes = _changes(before, {k: v for k, v in clean.items() if k != "source"})
    if "source" in clean:
        changes["chars"] = len(clean["source"])
    audit_record(actor=actor, action="document_template.update", obj=template, changes=changes)
    return template


@transaction.atomic
def template_set_active(*, actor, template: DocumentTemplate, active: bool) -> DocumentTemplate:
    """Put the template in use for its kind and language (the other one is switched off), or
    switch it off (the built-in file is used again)."""
    require_print_admin(actor)
    fresh = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    if fresh.active == active:
        return fresh
    if active:
        _deactivate_others(fresh, actor)
    now = timezone.now()
    DocumentTemplate.objects.filter(pk=fresh.pk).update(
        active=active, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
    )
    fresh.refresh_from_db()
    audit_record(actor=actor, action="document_template.activate" if active else "document_template.deactivate",
                 obj=fresh, changes={"kind": fresh.kind, "language": fresh.language})  # fmt: skip
    return fresh


@transaction.atomic
def template_delete(*, actor, template: DocumentTemplate) -> None:
    """Delete a template (the built-in file is used again if it was in use). PDFs already cached
    with it stay valid: issued documents do not change."""
    require_print_admin(actor)
    audit_record(actor=actor, action="document_template.delete", obj=template,
                 changes={"kind": template.kind, "language": template.language, "name": template.name})  # fmt: skip
    template.delete()


def active_template(kind: str, language: str) -> DocumentTemplate | None:
    return DocumentTemplate.objects.filter(kind=kind, language=language, active=True).first()


# --- the context of a printed document ----------------------------------------------------------


def _lang_text(language: str, make) -> str:
    """`make()` evaluated in the document's language; both (English, then Chinese) when bilingual
    and the two differ."""
    if language != "bilingual":
        with translation.override("zh-hans" if language == "zh-hans" else "en"):
            return str(make())
    with translation.override("en"):
        en = str(make())
    with translation.override("zh-hans"):
        zh = str(make())
    return en if zh == en else f"{en} / {zh}"


def _plain(value) -> str:
    """A percentage for a sentence: “30.00” → “30”, “2.50” → “2.5”."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(value)


def _payment_text(doc: dict, terms: dict, language: str) -> str:
    code = doc.get("payment_terms_code") or ""
    note = doc.get("payment_terms_note") or ""
    percent = doc.get("deposit_percent") or ""
    if not code:
        return terms.get("payment") or note

    def make():
        parts = [str(PaymentTerms(code).label)] if code in PaymentTerms.values else [code]
        if note:
            parts.append(note)
        text = ", ".join(parts)
        if percent and Decimal(str(percent)) > 0:
            text += " " + _("(%(percent)s%% deposit)") % {"percent": _plain(percent)}
        return text

    return _lang_text(language, make)


def _lead_time_text(days, fallback: str, language: str) -> str:
    if days in (None, ""):
        return fallback or ""
    n = int(days)
    return _lang_text(language, lambda: ngettext("%(days)d day", "%(days)d days", n) % {"days": n})


def _unit_text(code: str, language: str) -> str:
    """The unit as printed: its code ("pcs", "sets", "kg") in English, its Chinese name ("件")
    in Chinese once translated."""
    if language != "zh-hans" or code not in Unit.values:
        return code
    with translation.override("en"):
        english = str(Unit(code).label)
    with translation.override("zh-hans"):
        chinese = str(Unit(code).label)
    return code if chinese == english else chinese


def snapshot_context(snapshot: dict, language: str, *, draft: bool = False) -> dict:
    """The engine's context (tradecrm/documents/pdf.py, “Context contract”) from a document
    snapshot (services.build_snapshot: JSON, numbers and dates as strings). Tolerates the keys of
    older snapshots (`bank.account_number`, `seller.name_en`, `lines[].specification`), and puts
    text the snapshot keeps as codes (payment terms, lead time, country, unit) in `language`."""
    if language not in pdf.LANGUAGES:
        raise ValueError(f"language must be one of {pdf.LANGUAGES}")
    snap = snapshot or {}
    s, b, d = snap.get("seller") or {}, snap.get("buyer") or {}, snap.get("doc") or {}
    t, terms, bank = snap.get("totals") or {}, snap.get("terms") or {}, snap.get("bank") or {}
    kind = d.get("kind") or "quotation"

    seller = {
        "name": s.get("name") or s.get("name_en") or "",
        "name_zh": s.get("name_zh") or "",
        "address": s.get("address") or s.get("address_en") or "",
        "address_zh": s.get("address_zh") or "",
        "phone": s.get("phone") or "",
        "email": s.get("email") or "",
        "website": s.get("website") or "",
        "tax_id": s.get("tax_id") or "",
        "logo": s.get("logo") or "",
        "stamp": s.get("stamp") or "",
        "signatory": s.get("signatory") or "",
    }
    country = b.get("country") or ""
    if language == "zh-hans" and b.get("country_code"):
        country = geo.country_name(b["country_code"], "zh-hans") or country
    buyer = {
        "name": b.get("name") or "",
        "name_local": b.get("name_local") or "",
        "contact": b.get("contact") or "",
        "address": b.get("address") or "",
        "city": b.get("city") or "",
        "country": country,
        "phone": b.get("phone") or "",
        "email": b.get("email") or "",
        "tax_id": b.get("tax_id") or "",
    }
    lines = []
    for i, line in enumerate(snap.get("lines") or [], start=1):
        lines.append(
            {
                "no": line.get("no") or i,
                "sku": line.get("sku") or "",
                "name": line.get("name") or "",
                "name_zh": line.get("name_zh") or "",
                "spec": line.get("spec") or line.get("specification") or "",
                "note": line.get("note") or "",
                "hs_code": line.get("hs_code") or "",
                "qty": line.get("qty") or line.get("quantity") or "",
                "unit": _unit_text(line.get("unit") or "", language),
                "unit_price": line.get("unit_price") or "",
                "discount": line.get("discount") or line.get("discount_percent") or "",
                "amount": line.get("amount") or "",
                "cartons": line.get("cartons") or "",
                "gw": line.get("gw") or line.get("gross_weight_kg") or "",
                "nw": line.get("nw") or line.get("net_weight_kg") or "",
                "cbm": line.get("cbm") or "",
            }
        )
    show_discount = d.get("show_discount")
    if show_discount is None:
        show_discount = any(pdf_nonzero(line["discount"]) for line in lines)
    show_packing = d.get("show_packing")
    if show_packing is None:
        show_packing = any(pdf_nonzero(line["cartons"]) for line in lines)
    doc = {
        "kind": kind,
        "title": d.get("title") or ("Quotation" if kind == "quotation" else "Proforma Invoice"),
        "number": d.get("number") or "",
        "revision": d.get("revision") or 1,
        "date": d.get("date") or "",
        "valid_until": d.get("valid_until") or "",
        "currency": d.get("currency") or "",
        "reference": d.get("reference") or "",
        "sales_rep": d.get("sales_rep") or "",
        "show_discount": bool(show_discount),
        "show_packing": bool(show_packing),
        "draft": draft,
    }
    totals = {
        "subtotal": t.get("subtotal") or "",
        "discount": t.get("discount") or "",
        "freight": t.get("freight") or "",
        "insurance": t.get("insurance") or "",
        "total": t.get("total") or "",
        "total_in_words": t.get("total_in_words") or "",
        "qty": t.get("qty") or "",
        "cartons": t.get("cartons") or "",
        "gw": t.get("gw") or "",
        "nw": t.get("nw") or "",
        "cbm": t.get("cbm") or "",
        "containers": t.get("containers") or "",
        "lcl": bool(t.get("lcl")),
        "deposit_percent": t.get("deposit_percent") or "",
        "deposit": t.get("deposit") or "",
        "balance": t.get("balance") or "",
        "deposit_due": t.get("deposit_due") or "",
        "balance_due": t.get("balance_due") or "",
    }
    out_terms = {
        "incoterm": terms.get("incoterm") or d.get("incoterm") or "",
        "incoterm_place": terms.get("incoterm_place") or d.get("incoterm_place") or "",
        "payment": _payment_text(d, terms, language),
        "lead_time": _lead_time_text(
            terms.get("lead_time_days", d.get("lead_time_days")), terms.get("lead_time") or "", language
        ),
        "port_loading": terms.get("port_loading") or d.get("port_of_loading") or "",
        "port_destination": terms.get("port_destination") or d.get("port_of_destination") or "",
        "shipping_marks": terms.get("shipping_marks") or d.get("shipping_marks") or "",
        "packing": terms.get("packing") or d.get("packing_notes") or "",
        "remarks": terms.get("remarks") or d.get("remarks") or "",
    }
    out_bank = {
        "beneficiary": bank.get("beneficiary") or "",
        "beneficiary_address": bank.get("beneficiary_address") or "",
        "bank_name": bank.get("bank_name") or bank.get("bank") or "",
        "bank_address": bank.get("bank_address") or "",
        "account": bank.get("account") or bank.get("account_number") or "",
        "swift": bank.get("swift") or "",
        "iban": bank.get("iban") or "",
        "routing": bank.get("routing") or "",
        "intermediary": bank.get("intermediary") or bank.get("intermediary_bank") or "",
        "currency": bank.get("currency") or "",
    }
    return {
        "seller": seller,
        "buyer": buyer,
        "doc": doc,
        "lines": lines,
        "totals": totals,
        "terms": out_terms,
        "bank": out_bank,
        "draft_mark": DRAFT_MARK if draft else "",
    }


def pdf_nonzero(value) -> bool:
    try:
        return Decimal(str(value)) != 0 if value not in (None, "") else False
    except (InvalidOperation, ValueError):
        return False


def sample_context(kind: str) -> dict:
    """The engine's sample document shaped as `kind`: for previews of templates."""
    ctx = pdf.sample_context()
    ctx["doc"] = {**ctx["doc"], "kind": kind, "draft": False}
    ctx["totals"] = {**ctx["totals"], "containers": "1 × 20GP", "lcl": True}
    if kind == "quotation":
        ctx["bank"] = {}
        ctx["totals"].update(deposit=None, balance=None, deposit_percent=None)
    else:
        ctx["doc"].update(title="Proforma Invoice", number="PI-2025-0001", valid_until=None)
        ctx["totals"].update(deposit_due="2025-03-17", balance_due="2025-04-14")
    return ctx


# --- PDFs -----------------------------------------------------------------------------------


def document_kind(document) -> str:
    if isinstance(document, Quotation):
        return "quotation"
    if isinstance(document, ProformaInvoice):
        return "proforma"
    raise TypeError(f"not a quotation or proforma invoice: {type(document).__name__}")


def clean_language(value) -> str:
    if value in pdf.LANGUAGES:
        return value
    raise ValidationError(
        {
            "language": [
                _("“%(value)s” is not a document language: use en, zh-hans or bilingual.") % {"value": value}
            ]
        }
    )


def is_issued(document) -> bool:
    """Printed from its frozen snapshot (issued, accepted, superseded…) rather than as a draft."""
    return bool(document.number and document.snapshot) and document.status not in EDITABLE_STATUSES


def pdf_filename(document) -> str:
    if document.number:
        return re.sub(r"[^A-Za-z0-9._-]", "_", document.number) + ".pdf"
    return f"draft-{document.pk}.pdf"


def pdf_cache_key(document, kind: str, language: str, template: DocumentTemplate | None) -> str:
    number = re.sub(r"[^A-Za-z0-9._-]", "_", document.number)[:60]
    used = f"t{template.pk}v{template.version}" if template is not None else "builtin"
    return f"{kind}-{document.pk}-{number}-r{document.revision}-{language}-{used}-{layout_fingerprint()}"


def with_watermark(html: str) -> str:
    at = html.lower().rfind("</body>")
    return html + WATERMARK_HTML if at < 0 else html[:at] + WATERMARK_HTML + html[at:]


def render_document(kind: str, context: dict, language: str, *, template: DocumentTemplate | None = None,
                    source: str | None = None, draft: bool = False) -> bytes:  # fmt: skip
    """PDF bytes of `context` through `source`, the template's source, or the built-in file."""
    if source is None and template is not None:
        source = template.source
    name = None if source is not None else BUILTIN_TEMPLATES[kind]
    html = pdf.render_html(name, context, template_source=source, language=language)
    if draft:
        html = with_watermark(html)
    return pdf.html_to_pdf(html)


def document_pdf(document, *, language: str) -> bytes:
    """The PDF of a quotation or proforma invoice in "en", "zh-hans" or "bilingual" (a
    ValidationError on `language` otherwise). Issued: from the snapshot, cached. Draft: built
    now with the draft watermark, never cached."""
    language = clean_language(language)
    kind = document_kind(document)
    template = active_template(kind, language)
    if is_issued(document):
        context = snapshot_context(document.snapshot, language)
        key = pdf_cache_key(document, kind, language, template)
        return pdf.cached_pdf(key, lambda: render_document(kind, context, language, template=template))
    context = snapshot_context(services.draft_snapshot(document, kind), language, draft=True)
    return render_document(kind, context, language, template=template, draft=True)


def warm_pdf_cache(document, languages: tuple[str, ...] | None = None) -> list[str]:
    """Render an issued document's PDF into the cache ahead of the first download (its own
    language by default): a long quotation takes about a second to render, so this is meant for a
    background task queued with transaction.on_commit after the issue. Returns the languages done."""
    if not is_issued(document):
        return []
    done = []
    for language in languages or (document.language,):
        document_pdf(document, language=language)
        done.append(language)
    return done


def template_preview(*, kind: str, language: str, source: str | None = None,
                     template: DocumentTemplate | None = None) -> bytes:  # fmt: skip
    """A PDF of the sample document through `source` (checked first: a ValidationError on
    `source` names what is wrong) or a saved template."""
    language = clean_language(language)
    if kind not in KINDS:
        raise ValidationError({"kind": [_("Choose quotation or proforma invoice.")]})
    if source is not None:
        problems = pdf.check_template_source(source)
        if problems:
            raise ValidationError({"source": problems})
    return render_document(kind, sample_context(kind), language, template=template, source=source)
