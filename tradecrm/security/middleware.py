"""Session expiry: signed out after TRADECRM_SESSION_IDLE_MINUTES without a request, and in any
case SESSION_COOKIE_AGE after signing in (Django alone would slide that window each time the
session is saved). Either way the next page says why."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

AUTH_AT = "tradecrm_auth_at"
SEEN_AT = "tradecrm_seen_at"
# The last-seen mark is written at most once a minute, so browsing does not save the session
# on every request.
SEEN_RESOLUTION = 60


def mark_signed_in(session) -> None:
    now = int(time.time())
    session[AUTH_AT] = now
    session[SEEN_AT] = now


class SessionExpiryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        # No session cookie (API tokens, first visit): nothing to check, and no query spent.
        if session is not None and session.session_key and request.user.is_authenticated:
            self._check(request, session)
        return self.get_response(request)

    def _check(self, request, session) -> None:
        now = int(time.time())
        auth_at = session.get(AUTH_AT)
        seen_at = session.get(SEEN_AT)
        if auth_at is None:  # a session from before this check existed: start counting now
            mark_signed_in(session)
            return
        idle = int(getattr(settings, "TRADECRM_SESSION_IDLE_MINUTES", 0) or 0) * 60
        if now - auth_at >= settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session ended %(hours)s hours after you signed in. Please sign in again.")
                          % {"hours": _hours(settings.SESSION_COOKIE_AGE)})  # fmt: skip
        elif idle and seen_at is not None and now - seen_at >= idle:
            logout(request)
            messages.info(request, _("You were signed out after %(minutes)d minutes without activity. "
                                     "Please sign in again.") % {"minutes": idle // 60})  # fmt: skip
        elif idle and (seen_at is None or now - seen_at >= SEEN_RESOLUTION):
            session[SEEN_AT] = now


def _hours(seconds: int) -> str:
    hours = seconds / 3600
    return f"{hours:g}"
