"""Pages of sign-in security: the second sign-in step (code, or set-up when the role requires
it), the user's own two-factor and API-token pages, and the administrator's page (policy per
role, locked-out sign-ins, two-factor resets).

Between the password and the code nobody is signed in: the session only holds whose password
was right (`PENDING`), for a few minutes and a few tries."""

from __future__ import annotations

import time

import pyotp
import segno
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.accounts.models import Role, User

from . import selectors, services
from .forms import CodeForm, TokenForm
from .models import TwoFactorMode, TwoFactorPolicy

PENDING = "tradecrm_2fa_pending"
PENDING_SECONDS = 600
PENDING_TRIES = 5
ISSUER = "TradeCRM"


# --- the second sign-in step -------------------------------------------------------------------


def next_step(user: User) -> str | None:
    """After a right password: "verify" (ask for the code), "enroll" (role requires two-factor
    and the user has none yet) or None (sign in now)."""
    if selectors.has_two_factor(user):
        return "verify"
    if services.policy_for(user) == TwoFactorMode.ENFORCED:
        return "enroll"
    return None


def begin_pending(request, user: User, step: str, next_url: str) -> str:
    request.session.cycle_key()
    request.session[PENDING] = {"uid": user.pk, "backend": user.backend, "next": next_url,
                                "at": int(time.time()), "tries": 0, "step": step}  # fmt: skip
    return reverse("security:login_verify" if step == "verify" else "security:login_enroll")


def clear_pending(request) -> None:
    session = getattr(request, "session", None)
    if session is not None and PENDING in session:
        del session[PENDING]


def _pending(request, step: str) -> tuple[User | None, dict | None]:
    data = request.session.get(PENDING)
    if not data or data.get("step") != step or time.time() - data.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = User.objects.filter(pk=data["uid"], is_active=True).first()
    return user, data


def _restart(request, message: str):
    clear_pending(request)
    messages.error(request, message)
    return redirect("accounts:login")


def _finish(request, user: User, data: dict, then: str | None = None):
    user.backend = data["backend"]
    clear_pending(request)
    auth_login(request, user)
    return redirect(then or data.get("next") or reverse("customers:company_list"))


def _failed(request, user: User, data: dict, reason: str) -> None:
    """A wrong code counts as a failed sign-in: audited, and counted by the lockout."""
    services.record_failure(user=user, reason=reason)
    user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
    data["tries"] = data.get("tries", 0) + 1
    request.session[PENDING] = data


@require_http_methods(["GET", "POST"])
def login_verify(request):
    user, data = _pending(request, "verify")
    if user is None:
        return _restart(request, _("The sign-in took too long or was not started. Please sign in again."))
    credentials = {"username": user.username}
    if not AxesProxyHandler.is_allowed(request, credentials):
        from .lockout import lockout_response

        return lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind = services.verify_second_factor(user=user, code=form.cleaned_data["code"])
        if kind:
            if kind == "recovery":
                left = selectors.recovery_codes_left(user)
                messages.warning(request, _("You signed in with a recovery code; %(n)d left. Renew them on "
                                            "your two-factor page if you are running out.") % {"n": left})  # fmt: skip
            return _finish(request, user, data)
        _failed(request, user, data, "sign-in")
        if data["tries"] >= PENDING_TRIES:
            return _restart(request, _("Too many wrong codes. Please sign in again."))
        form.add_error("code", _("This code is not right, or it was used already. Type the 6 digits your app "
                                 "shows now, or one of your recovery codes."))  # fmt: skip
    return render(request, "security/login_verify.html", {"form": form, "pending_user": user},
                  status=422 if form.errors else 200)  # fmt: skip


def _qr(device, user: User) -> tuple[str, str]:
    uri = pyotp.TOTP(device.secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1d273b")
    return mark_safe(svg), " ".join(device.secret[i : i + 4] for i in range(0, len(device.secret), 4))  # noqa: S308


@require_http_methods(["GET", "POST"])
def login_enroll(request):
    """The role requires two-factor and this user has none: set it up before being signed in."""
    user, data = _pending(request, "enroll")
    if user is None:
        return _restart(request, _("The sign-in took too long or was not started. Please sign in again."))
    device = selectors.totp_device_for(user)
    if device is None or device.confirmed:
        device = services.totp_start(actor=user, user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_confirm(actor=user, user=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            _failed(request, user, data, "enroll")
            if data["tries"] >= PENDING_TRIES:
                return _restart(request, _("Too many wrong codes. Please sign in again."))
            for message in exc.message_dict.get("code", exc.messages):
                form.add_error("code", message)
        else:
            response = _finish(request, user, data, then=reverse("security:two_factor"))
            request.session["tradecrm_new_recovery_codes"] = codes
            return response
    qr, key = _qr(device, user)
    return render(request, "security/login_enroll.html", {"form": form, "qr": qr, "key": key, "pending_user": user},
                  status=422 if form.errors else 200)  # fmt: skip


# --- the user's own two-factor page ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    user = request.user
    mode = services.policy_for(user)
    form = CodeForm(request.POST or None)
    codes = request.session.pop("tradecrm_new_recovery_codes", None)
    action = request.POST.get("action", "")
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        try:
            if action == "start":
                if mode == TwoFactorMode.OFF:
                    raise ValidationError({"code": [_("Two-factor sign-in is not offered for your role.")]})
                services.totp_start(actor=user, user=user)
                return redirect("security:two_factor")
            if not form.is_valid():
                raise ValidationError({"code": [_("Type the code from your authenticator app.")]})
            code = form.cleaned_data["code"]
            if action == "confirm":
                codes = services.totp_confirm(actor=user, user=user, code=code)
                messages.success(request, _("Two-factor sign-in is on."))
            elif action == "disable":
                services.totp_disable(actor=user, user=user, code=code)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("security:two_factor")
            elif action == "renew":
                codes = services.recovery_codes_renew(actor=user, user=user, code=code)
                messages.success(request, _("New recovery codes; the old ones no longer work."))
            else:
                raise ValidationError({"code": [_("Unknown action.")]})
        except ValidationError as exc:
            form = CodeForm()
            errors = exc.message_dict.get("code", exc.messages)
            status = 422
    device = selectors.totp_device_for(user)
    ctx = {"nav": "two_factor", "device": device, "mode": mode, "form": form, "codes": codes,
           "errors": errors,
           "left": selectors.recovery_codes_left(user) if device and device.confirmed else 0}  # fmt: skip
    if device is not None and not device.confirmed:
        ctx["qr"], ctx["key"] = _qr(device, user)
    return render(request, "security/two_factor.html", ctx, status=status)


# --- API tokens ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenForm(request.POST or None)
    raw = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, raw = services.api_token_create(actor=request.user, user=request.user,
                                                       name=form.cleaned_data["name"], scopes=form.scopes(),
                                                       days=form.cleaned_data["days"])  # fmt: skip
                status = 201
                form = TokenForm()
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    for e in errs:
                        form.add_error(field if field in form.fields else None, e)
        if form.errors:
            status = 422
    tokens = selectors.api_token_list_for_user(request.user)
    return render(request, "security/tokens.html", {"nav": "api_tokens", "form": form, "tokens": tokens,
                                                    "raw": raw}, status=status)  # fmt: skip


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = selectors.api_token_get_for_user(request.user, pk)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("security:tokens")


# --- administrators ----------------------------------------------------------------------------


def _admin_only(request) -> None:
    # Not an administrator: the page does not exist for them (like any object not theirs).
    if not request.user.is_admin:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def admin_page(request):
    _admin_only(request)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        try:
            for role in Role.values:
                mode = request.POST.get(f"mode_{role}")
                if mode is not None:
                    services.policy_set(actor=request.user, role=role, mode=mode)
            messages.success(request, _("The two-factor policy is saved."))
            return redirect("security:admin")
        except ValidationError as exc:
            errors = exc.messages
            status = 422
    modes = dict(TwoFactorPolicy.objects.values_list("role", "mode"))
    roles = [(value, label, modes.get(value, TwoFactorMode.OPTIONAL)) for value, label in Role.choices]
    ctx = {"nav": "security_admin", "roles": roles, "mode_choices": TwoFactorMode.choices, "errors": errors,
           "locked": selectors.locked_out_attempts(), "users": selectors.two_factor_users()}  # fmt: skip
    return render(request, "security/admin.html", ctx, status=status)


@login_required
@require_POST
def admin_unlock(request):
    _admin_only(request)
    username = request.POST.get("username", "")
    n = services.lockout_reset(actor=request.user, username=username)
    messages.success(
        request, _("%(user)s is unlocked (%(n)d failed attempts forgotten).") % {"user": username, "n": n}
    )
    return redirect("security:admin")


@login_required
@require_POST
def admin_reset_two_factor(request, pk: int):
    _admin_only(request)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise Http404
    try:
        services.totp_disable(actor=request.user, user=user)
        messages.success(request, _("Two-factor sign-in of %(user)s is reset.") % {"user": user})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("security:admin")
