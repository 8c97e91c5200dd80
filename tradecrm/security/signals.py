"""Stamp the sign-in time on the session (for the absolute and idle expiry)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import mark_signed_in


@receiver(user_logged_in, dispatch_uid="tradecrm_security_signed_in")
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mark_signed_in(request.session)
