"""django-axes hooks: which address a sign-in comes from, and the answer to a locked-out one —
the sign-in page with a message saying why and for how long, not a bare 403/429 text."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tradecrm.audit import context


def client_ip(request: HttpRequest) -> str:
    # the same address the audit trail records (honours TRADECRM_PROXY_COUNT)
    return context.client_ip(request) or ""


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
    if minutes:
        return _(
            "Too many failed sign-in attempts for this user from your address. Try again in %(minutes)d "
            "minutes, or ask an administrator to unlock the account."
        ) % {"minutes": minutes}
    return _("Too many failed sign-in attempts for this user. Ask an administrator to unlock the account.")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    from tradecrm.accounts.forms import SignInForm

    from .views import clear_pending

    clear_pending(request)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = SignInForm(request, initial={"username": username})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")},
        status=429,
    )
