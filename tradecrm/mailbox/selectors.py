"""Reads of the email app, always scoped to the user. A mailbox, its unknown senders and its
templates are their owner's (templates marked shared are readable by all); a message or thread is
seen by the mailbox's owner and — unless the thread is private — by whoever sees its customer."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from tradecrm.accounts.access import company_visibility_q
from tradecrm.core.ids import parse_id

from .models import Mailbox, MailMessage, MailTemplate, MailThread, UnknownSender


def _get(qs, pk):
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    try:
        return qs.get(pk=pk)
    except qs.model.DoesNotExist:
        raise Http404 from None


def mailboxes_for_user(user):
    return Mailbox.objects.filter(user=user).order_by("id")


def mailbox_get_for_user(user, mailbox_id) -> Mailbox:
    return _get(Mailbox.objects.filter(user=user).select_related("user"), mailbox_id)


def mailboxes_to_sync():
    return Mailbox.objects.filter(sync_enabled=True).exclude(status="auth_failed").select_related("user").order_by("id")


def _message_visibility(user) -> Q:
    own = Q(mailbox__user_id=user.pk)
    q = company_visibility_q(user, "company__")
    shared = Q(company__isnull=False) & (Q(thread__isnull=True) | Q(thread__private=False))
    return own | (shared & q) if q is not None else own | shared


def messages_for_user(user):
    return MailMessage.objects.filter(_message_visibility(user))


def message_get_for_user(user, message_id) -> MailMessage:
    return _get(messages_for_user(user).select_related("mailbox", "thread", "company", "contact"), message_id)


def company_messages(user, company, *, limit: int = 50):
    return messages_for_user(user).filter(company=company).select_related("thread").order_by("-sent_at", "-id")[:limit]


def thread_get_for_user(user, thread_id) -> MailThread:
    q = Q(owner_id=user.pk)
    cq = company_visibility_q(user, "company__")
    q |= Q(private=False, company__isnull=False) & (cq if cq is not None else Q())
    return _get(MailThread.objects.filter(q), thread_id)


def unknown_senders_for_user(user, *, limit: int = 100):
    return UnknownSender.objects.filter(user=user, dismissed=False).order_by("-last_seen_at", "-id")[:limit]


def unknown_sender_get_for_user(user, sender_id) -> UnknownSender:
    return _get(UnknownSender.objects.filter(user=user), sender_id)


def templates_for_user(user):
    return MailTemplate.objects.filter(Q(owner=user) | Q(shared=True)).order_by("name", "language")


def template_get_for_user(user, template_id) -> MailTemplate:
    return _get(templates_for_user(user), template_id)


def attachment_get_for_user(user, attachment_id):
    from .models import MailAttachment

    att = _get(MailAttachment.objects.select_related("message"), attachment_id)
    messages_ok = messages_for_user(user).filter(pk=att.message_id).exists()
    if not messages_ok:
        raise Http404
    return att
