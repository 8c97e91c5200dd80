"""Reads of the printed side: seller profiles with their bank accounts (everyone signed in reads
them: documents print them), document templates (administrators only: for everyone else they
are not there, 404)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404

from tradecrm.core.ids import parse_id

from .models import BankAccount, DocumentTemplate, SellerProfile


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def seller_list(user) -> list[SellerProfile]:
    """Every seller profile, the default first, with its bank accounts (active first)."""
    if not _signed_in(user):
        return []
    accounts = BankAccount.objects.order_by("currency", "-active", "-is_default", "id")
    return list(
        SellerProfile.objects.select_related("updated_by")
        .prefetch_related(Prefetch("bank_accounts", queryset=accounts))
        .order_by("-is_default", "name_en", "id")
    )


def seller_get_for_user(user, seller_id) -> SellerProfile:
    seller_id = parse_id(seller_id)
    if seller_id is None or not _signed_in(user):
        raise Http404
    seller = SellerProfile.objects.select_related("updated_by").filter(pk=seller_id).first()
    if seller is None:
        raise Http404
    return seller


def seller_accounts(seller: SellerProfile) -> list[BankAccount]:
    return list(seller.bank_accounts.order_by("currency", "-active", "-is_default", "id"))


def bank_account_get_for_user(user, account_id, *, seller_id=None) -> BankAccount:
    """A bank account (of `seller_id` when given: a URL naming another seller's account is 404)."""
    account_id = parse_id(account_id)
    if account_id is None or not _signed_in(user):
        raise Http404
    qs = BankAccount.objects.select_related("seller").filter(pk=account_id)
    if seller_id is not None:
        qs = qs.filter(seller_id=parse_id(seller_id) or 0)
    account = qs.first()
    if account is None:
        raise Http404
    return account


def template_list(user) -> list[DocumentTemplate]:
    if not getattr(user, "is_admin", False):
        return []
    return list(
        DocumentTemplate.objects.select_related("updated_by")
        .defer("source")
        .order_by("kind", "language", "-active", "name", "id")
    )


def template_get_for_user(user, template_id) -> DocumentTemplate:
    """Document templates exist for administrators only; for everyone else they are not there."""
    template_id = parse_id(template_id)
    if template_id is None or not getattr(user, "is_admin", False):
        raise Http404
    template = DocumentTemplate.objects.select_related("updated_by").filter(pk=template_id).first()
    if template is None:
        raise Http404
    return template
