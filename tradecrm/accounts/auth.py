"""Who is calling the API: a bearer token, or the web UI's signed-in session (with its CSRF token).

Token check is one query (token joined with its user, with the token's scopes and expiry).
`last_used_at` is written at most once a minute per token, so a busy script does not turn every
read into a write. An expired token is 401 with its expiry date; a token whose scopes do not
cover the area and method is 403 (tradecrm.security.scopes).

Tokens are not subject to the sign-in lockout: they are 256-bit random values compared by their
SHA-256, so guessing one is not a practical attack, and a lockout keyed on a token would only let
anyone lock a script out.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from tradecrm.core.api import InvalidToken, json_response
from tradecrm.security.scopes import allows

from .models import ApiToken, User

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Issued tokens are "tcrm_" + 43 characters; anything much longer is not worth a hash and a query.
MAX_TOKEN_LENGTH = 128


def _activate_language(request: HttpRequest, user: User) -> None:
    # The session path gets this from UserLanguageMiddleware; token callers have no session.
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = translation.get_language()


@functools.cache
def _token_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT u.*, t.id AS token_id, t.last_used_at AS token_last_used_at, "
        f"t.scopes AS token_scopes, t.expires_at AS token_expires_at "
        f"FROM {q(ApiToken._meta.db_table)} t JOIN {q(User._meta.db_table)} u ON u.id = t.user_id "
        f"WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active = %s"
    )


class ExpiredToken(InvalidToken):
    """The token is right but past its expiry date."""

    def __init__(self, expired_at: dt.datetime):
        super().__init__()
        self.expired_at = expired_at


def on_expired_token(request: HttpRequest, exc: ExpiredToken) -> HttpResponse:
    when = exc.expired_at.strftime("%Y-%m-%d %H:%M UTC")
    return json_response(
        {"detail": _("The API token expired on %(date)s. Create a new one.") % {"date": when}},
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'},
    )


def _as_datetime(value) -> dt.datetime | None:
    if isinstance(value, str):  # SQLite without declared-type parsing
        value = dt.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _as_list(value) -> list[str]:
    if isinstance(value, str):  # SQLite returns the JSON text, PostgreSQL the parsed list
        value = json.loads(value)
    return list(value or [])


def user_for_token(raw: str) -> User | None:
    """The active user owning the live token `raw`, or None. Raises ExpiredToken for a token
    past its expiry. The user carries `token_scopes` (a list; empty means full rights).

    Raw SQL because this runs on every API request: the ORM spends ~450 µs building this one
    join, the raw query ~70 µs, and the list endpoint's whole budget is ~2 ms."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    user = next(iter(User.objects.raw(_token_sql(), [ApiToken.hash(raw), True])), None)
    if user is None:
        return None
    now = timezone.now()
    expires_at = _as_datetime(user.token_expires_at)
    if expires_at is not None and expires_at <= now:
        raise ExpiredToken(expires_at)
    user.token_scopes = _as_list(user.token_scopes)
    last_used = _as_datetime(user.token_last_used_at)
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=now)
    return user


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`. A token that is sent but wrong is refused outright (401)
    rather than falling through to the session, so a broken script fails loudly."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token.strip())
        if user is None:
            raise InvalidToken()
        request.user = user
        _activate_language(request, user)
        if not allows(user.token_scopes, request.method, request.path_info):
            raise HttpError(
                403,
                _("This API token's scopes (%(scopes)s) do not allow %(method)s on this path.")
                % {"scopes": ", ".join(user.token_scopes), "method": request.method},
            )
        return user


class SessionAuth(APIKeyCookie):
    """The web UI's Django session. Unsafe methods need the CSRF token (header X-CSRFToken), as
    for any form post. Without a session cookie this is skipped, so the answer is 401, not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if key and self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(
                403, _("CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header.")
            )
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not key:
            return None
        user = request.user
        return user if user.is_authenticated and user.is_active else None


api_auth = [BearerTokenAuth(), SessionAuth()]
