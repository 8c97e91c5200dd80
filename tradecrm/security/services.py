"""Writes of sign-in security: two-factor devices and recovery codes, the per-role policy,
unlocking a locked-out sign-in, and scoped, expiring API tokens. Every change is audited."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pyotp
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tradecrm.accounts.models import ApiToken, Role, User
from tradecrm.audit.services import audit_record
from tradecrm.core.errors import Errors, ValidationError

from .models import RecoveryCode, TotpDevice, TwoFactorMode, TwoFactorPolicy, normalize_code
from .scopes import validate_scopes

STEP_SECONDS = 30
# a code from the step before or after is accepted too: phone clocks drift
VALID_WINDOW = 1
RECOVERY_CODES = 10
MAX_TOKEN_DAYS = 3650
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


# --- two-factor --------------------------------------------------------------------------------


@transaction.atomic
def totp_start(*, actor: User, user: User) -> TotpDevice:
    """A new, unconfirmed authenticator for `user` (replacing an unconfirmed one). A confirmed
    one must be disabled first, so that starting over cannot remove the second factor."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed:
        raise ValidationError({"code": [_("Two-factor sign-in is already on; turn it off first.")]})
    if device is None:
        device = TotpDevice(user=user)
    device.secret = pyotp.random_base32()
    device.last_step = 0
    device.save()
    return device


def _match_step(device: TotpDevice, code: str) -> int | None:
    """The time step `code` belongs to, if it is right, inside the window and newer than the
    last accepted one (a code that was used once is refused)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(device.secret)
    now = _step()
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if step > device.last_step and constant_time_compare(totp.generate_otp(step), code):
            return step
    return None


@transaction.atomic
def totp_confirm(*, actor: User, user: User, code: str) -> list[str]:
    """Turn two-factor on with the first right code; returns the new recovery codes (shown once)."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise ValidationError({"code": [_("Start the set-up first.")]})
    if device.confirmed:
        raise ValidationError({"code": [_("Two-factor sign-in is already on.")]})
    step = _match_step(device, code)
    if step is None:
        raise ValidationError({"code": [_("This code is not right. Check the time on your phone and type the "
                                          "6 digits your app shows now.")]})  # fmt: skip
    now = timezone.now()
    device.confirmed_at = now
    device.last_step = step
    device.last_used_at = now
    device.save(update_fields=["confirmed_at", "last_step", "last_used_at"])
    codes = _new_recovery_codes(user)
    audit_record(
        actor=actor, action="auth.2fa_enabled", object_type="accounts.user", object_id=user.pk, changes={}
    )
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(16))  # 80 bits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=RecoveryCode.hash(c)) for c in codes])
    return codes


@transaction.atomic
def recovery_codes_renew(*, actor: User, user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working); needs a current authenticator code."""
    if not verify_second_factor(user=user, code=code, allow_recovery=False):
        raise ValidationError({"code": [_("This code is not right.")]})
    codes = _new_recovery_codes(user)
    audit_record(
        actor=actor,
        action="auth.2fa_recovery_codes",
        object_type="accounts.user",
        object_id=user.pk,
        changes={},
    )
    return codes


@transaction.atomic
def verify_second_factor(*, user: User, code: str, allow_recovery: bool = True) -> str | None:
    """Check a sign-in code: "totp" or "recovery" for what matched, None if nothing did.
    A TOTP code is accepted once; a recovery code is used up."""
    device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return None
    step = _match_step(device, code)
    if step is not None:
        device.last_step = step
        device.last_used_at = timezone.now()
        device.save(update_fields=["last_step", "last_used_at"])
        return "totp"
    if allow_recovery and len(normalize_code(code)) == 16:
        used = RecoveryCode.objects.filter(
            user=user, code_hash=RecoveryCode.hash(code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            audit_record(actor=user, action="auth.2fa_recovery_code_used", object_type="accounts.user", object_id=user.pk,
                         changes={"left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()})  # fmt: skip
            return "recovery"
    return None


def record_failure(*, user: User, reason: str) -> None:
    audit_record(
        actor=None,
        action="auth.2fa_failed",
        object_type="accounts.user",
        object_id=user.pk,
        changes={"username": user.username, "step": reason},
    )


@transaction.atomic
def totp_disable(*, actor: User, user: User, code: str | None = None) -> None:
    """Turn two-factor off. The user needs a current code (or a recovery code); an administrator
    resetting someone else's does not. Refused for the user when their role enforces it."""
    by_admin = actor.pk != user.pk
    if by_admin and not actor.is_admin:
        raise ValidationError(
            {"code": [_("Only an administrator can reset another user's two-factor sign-in.")]}
        )
    if not TotpDevice.objects.filter(user=user).exists():
        raise ValidationError({"code": [_("Two-factor sign-in is not on.")]})
    if not by_admin:
        if (
            policy_for(user) == TwoFactorMode.ENFORCED
            and TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
        ):
            raise ValidationError({"code": [_("Your role requires two-factor sign-in; it cannot be turned off. "
                                              "Ask an administrator to reset it if you have a new phone.")]})  # fmt: skip
        if not verify_second_factor(user=user, code=code or ""):
            raise ValidationError({"code": [_("This code is not right.")]})
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action="auth.2fa_disabled",
        object_type="accounts.user",
        object_id=user.pk,
        changes={"by_admin": by_admin},
    )


# --- policy ------------------------------------------------------------------------------------


def policy_for(user: User) -> str:
    row = TwoFactorPolicy.objects.filter(role=user.role).values_list("mode", flat=True).first()
    return row or TwoFactorMode.OPTIONAL


@transaction.atomic
def policy_set(*, actor: User, role: str, mode: str) -> TwoFactorPolicy:
    errors = Errors()
    if role not in Role.values:
        errors.add("role", _("Unknown role “%(role)s”.") % {"role": role})
    if mode not in TwoFactorMode.values:
        errors.add("mode", _("Unknown setting “%(mode)s”; use one of: %(modes)s.")
                   % {"mode": mode, "modes": ", ".join(TwoFactorMode.values)})  # fmt: skip
    errors.raise_if_any()
    policy, _created = TwoFactorPolicy.objects.get_or_create(role=role)
    if policy.mode != mode:
        old = policy.mode
        policy.mode = mode
        policy.save()
        audit_record(
            actor=actor, action="auth.2fa_policy", obj=policy, changes={"mode": [old, mode], "role": role}
        )
    return policy


# --- lockout -----------------------------------------------------------------------------------


@transaction.atomic
def lockout_reset(*, actor: User | None, username: str) -> int:
    """Forget the failed sign-ins of `username` (every address); returns how many were removed."""
    from axes.models import AccessAttempt

    n, _detail = AccessAttempt.objects.filter(username=username).delete()
    audit_record(actor=actor, action="auth.unlock", object_type="accounts.user",
                 object_id=User.objects.filter(username=username).values_list("pk", flat=True).first(),
                 changes={"username": username, "attempts": n})  # fmt: skip
    return n


# --- API tokens --------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, actor: User | None, user: User, name: str = "", scopes=None, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` (the raw value is returned once; only its hash is kept).
    `scopes` like ["customers:read"] (empty: the user's full rights); `days` until it expires
    (None: never)."""
    errors = Errors()
    name = (name or "").strip()
    if len(name) > 100:
        errors.add("name", _("At most 100 characters (this has %(n)d).") % {"n": len(name)})
    try:
        clean_scopes = validate_scopes(scopes)
    except ValueError as exc:
        clean_scopes = []
        errors.add(
            "scopes",
            _("Unknown scope “%(scope)s”; scopes are area:read or area:write.") % {"scope": exc.args[0]},
        )
    if days is not None and not (1 <= days <= MAX_TOKEN_DAYS):
        errors.add("days", _("Enter a number of days from 1 to %(max)d.") % {"max": MAX_TOKEN_DAYS})
    errors.raise_if_any()
    token, raw = ApiToken.issue(user, name)
    token.scopes = clean_scopes
    token.expires_at = timezone.now() + dt.timedelta(days=days) if days else None
    token.save(update_fields=["scopes", "expires_at"])
    audit_record(actor=actor, action="token.create", obj=token,
                 changes={"user": user.pk, "prefix": token.prefix, "scopes": clean_scopes,
                          "expires_at": token.expires_at.isoformat() if token.expires_at else None})  # fmt: skip
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", obj=token, changes={"prefix": token.prefix})
    return token
