"""Sign-in events in the audit trail: login, logout and failed login, with the client's address.
A failed login records the username that was tried (never the password)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tradecrm.audit.context import audit_context, client_ip, current
from tradecrm.audit.services import audit_record

USERNAME_MAX = 150


def _record(request, **kwargs) -> None:
    ip = client_ip(request) if request is not None else None
    ctx = current()
    with audit_context(source=ctx.source, ip=ip or ctx.ip):
        audit_record(**kwargs)


@receiver(user_logged_in, dispatch_uid="tradecrm_audit_login")
def on_login(sender, request, user, **kwargs):
    _record(request, actor=user, action="auth.login", obj=user, changes={})


@receiver(user_logged_out, dispatch_uid="tradecrm_audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is None or not getattr(user, "pk", None):
        return  # logging out without being signed in changes nothing
    _record(request, actor=user, action="auth.logout", obj=user, changes={})


@receiver(user_login_failed, dispatch_uid="tradecrm_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    from tradecrm.accounts.models import User

    username = str((credentials or {}).get("username") or "")[:USERNAME_MAX]
    known = User.objects.filter(username=username).only("pk").first() if username else None
    _record(request, actor=None, action="auth.login_failed", object_type="accounts.user",
            object_id=known.pk if known else None, changes={"username": username})  # fmt: skip
