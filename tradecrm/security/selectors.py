"""Reads of sign-in security, scoped to the user asking."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.models import ApiToken, User

from .models import RecoveryCode, TotpDevice


def api_token_list_for_user(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (administrators see only their own here, too: a
    token is a personal credential)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404
    return token


def totp_device_for(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user).first()


def has_two_factor(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def locked_out_attempts() -> list[dict]:
    """The user name / address pairs that are locked out now (failures at the limit, the last
    one within the cool-off)."""
    from axes.models import AccessAttempt

    since = timezone.now() - (settings.AXES_COOLOFF_TIME or dt.timedelta(days=36500))
    return list(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        )
        .order_by("-attempt_time")
        .values("id", "username", "ip_address", "failures_since_start", "attempt_time")
    )


def two_factor_users() -> QuerySet[User]:
    """Users with an authenticator (confirmed or being set up), for the administrator."""
    return User.objects.filter(totp_device__isnull=False).select_related("totp_device").order_by("username")
