"""HTML views (thin) of the email app: mailbox settings (with the paused-sync message), unknown
senders, templates, a message, the customer page's mail card with the compose form (htmx), and
the public tracking endpoints (/t/c/ click redirect, /t/o/ open pixel, /t/u/ unsubscribe)."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tradecrm.core.crypto import decrypt_bytes
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.interactions.validation import sanitize_html

from . import rendering, selectors, services
from .forms import ComposeForm, MailboxForm, TemplateForm
from .models import TrackingKind
from .sending import local_morning, message_queue

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _add_errors(form, exc: ValidationError) -> None:
    for field, msgs in _errors(exc).items():
        for m in msgs:
            form.add_error(field if field in form.fields else None, m)


@login_required
def mail_home(request):
    user = request.user
    ctx = {"nav": "mail", "mailboxes": selectors.mailboxes_for_user(user),
           "senders": selectors.unknown_senders_for_user(user),
           "recent": selectors.messages_for_user(user).filter(mailbox__user=user).order_by("-sent_at", "-id")[:30]}  # fmt: skip
    return render(request, "mailbox/home.html", ctx)


@login_required
def mailbox_create(request):
    form = MailboxForm(request.POST or None, require_password=True)
    if request.method == "POST" and form.is_valid():
        try:
            box = services.mailbox_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Mailbox connected; the first sync has started."))
            return redirect("mailbox:mailbox_edit", box.pk)
    return render(request, "mailbox/mailbox_form.html", {"form": form, "nav": "mail"})


@login_required
def mailbox_edit(request, pk: int):
    box = selectors.mailbox_get_for_user(request.user, pk)
    initial = {f: getattr(box, f) for f in services.MAILBOX_FIELDS if f != "password"}
    form = MailboxForm(request.POST or None, initial={**initial, "version": box.version}, require_password=False)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            box = services.mailbox_update(actor=request.user, mailbox=box, version=form.cleaned_data.get("version"),
                                          data=data)
        except (ValidationError, ConcurrentEditError) as exc:
            if isinstance(exc, ValidationError):
                _add_errors(form, exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(request, _("Mailbox saved."))
            return redirect("mailbox:mailbox_edit", box.pk)
    return render(request, "mailbox/mailbox_form.html", {"form": form, "mailbox": box, "nav": "mail",
                                                          "folders": box.folders.order_by("role")})


@login_required
@require_POST
def mailbox_sync_now(request, pk: int):
    box = selectors.mailbox_get_for_user(request.user, pk)
    try:
        services.mailbox_sync_now(actor=request.user, mailbox=box)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in _errors(exc).values() for m in ms))
    else:
        messages.success(request, _("Sync started."))
    return redirect("mailbox:mailbox_edit", box.pk)


@login_required
@require_POST
def mailbox_delete(request, pk: int):
    box = selectors.mailbox_get_for_user(request.user, pk)
    services.mailbox_delete(actor=request.user, mailbox=box)
    messages.success(request, _("Mailbox removed. Mail already on customers' timelines stays there."))
    return redirect("mailbox:home")


@login_required
def message_detail(request, pk: int):
    msg = selectors.message_get_for_user(request.user, pk)
    ctx = {"m": msg, "nav": "mail", "attachments": msg.attachments.all(), "events": msg.events.order_by("-at")[:50],
           "is_owner": msg.mailbox.user_id == request.user.pk,
           # stored sanitized (nh3) already; cleaned again on display, whatever wrote the row
           "body_html": sanitize_html(msg.body_html) if msg.body_html else ""}  # fmt: skip
    return render(request, "mailbox/message_detail.html", ctx)


@login_required
@require_POST
def thread_private(request, pk: int):
    thread = selectors.thread_get_for_user(request.user, pk)
    try:
        services.thread_set_private(actor=request.user, thread=thread, private=request.POST.get("private") == "1")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    nxt = request.POST.get("next") or ""
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "mailbox:home")


@login_required
def attachment_download(request, pk: int):
    att = selectors.attachment_get_for_user(request.user, pk)
    with default_storage.open(att.file.name, "rb") as fh:
        data = decrypt_bytes(fh.read(), services.ATTACHMENT_LABEL)
    response = HttpResponse(data, content_type=att.content_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{att.name.replace(chr(34), "")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def sender_customer(request, pk: int):
    sender = selectors.unknown_sender_get_for_user(request.user, pk)
    from tradecrm.dedup.selectors import check_company

    errors: list[str] = []
    name = request.POST.get("name", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            company = services.unknown_sender_create_customer(
                actor=request.user, sender=sender, force=request.POST.get("force") == "1",
                data={"name": name, "country": request.POST.get("country", ""),
                      "contact_name": request.POST.get("contact_name", "")},
            )  # fmt: skip
        except ValidationError as exc:
            errors = [m for ms in _errors(exc).values() for m in ms]
        except PermissionDenied as exc:
            errors = [str(exc) or _("You may not create customers.")]
        else:
            messages.success(request, _("Customer created; the next sync files this sender's mail there."))
            return redirect("customers:company_detail", company.pk)
    candidates = check_company(request.user, {"email": sender.address, "name": name}) if sender else []
    return render(request, "mailbox/sender_customer.html",
                  {"sender": sender, "errors": errors, "candidates": candidates, "name": name, "nav": "mail"})


@login_required
@require_POST
def sender_dismiss(request, pk: int):
    sender = selectors.unknown_sender_get_for_user(request.user, pk)
    sender.dismissed = True
    sender.save(update_fields=["dismissed", "updated_at"])
    return redirect("mailbox:home")


@login_required
def template_list(request):
    return render(request, "mailbox/template_list.html",
                  {"templates": selectors.templates_for_user(request.user), "nav": "mail"})


@login_required
def template_edit(request, pk: int | None = None):
    t = selectors.template_get_for_user(request.user, pk) if pk else None
    initial = {"name": t.name, "language": t.language, "subject": t.subject, "body": t.body, "shared": t.shared,
               "version": t.version} if t else {}  # fmt: skip
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            if t is None:
                services.template_create(actor=request.user, data=data)
            else:
                services.template_update(actor=request.user, template=t, version=form.cleaned_data.get("version"),
                                         data=data)
        except ValidationError as exc:
            _add_errors(form, exc)
        except (PermissionDenied, ConcurrentEditError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Template saved."))
            return redirect("mailbox:templates")
    return render(request, "mailbox/template_form.html", {"form": form, "template": t, "nav": "mail"})


# --- the customer page's card ----------------------------------------------------------------------


def _panel_ctx(request, company, form=None, sent=None):
    user = request.user
    return {
        "company": company,
        "threads_messages": selectors.company_messages(user, company, limit=20),
        "form": form or ComposeForm(user=user, company=company),
        "has_mailbox": selectors.mailboxes_for_user(user).exists(),
        "morning": local_morning(company),
        "sent": sent,
    }


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    return render(request, "mailbox/_company_panel_body.html", _panel_ctx(request, company))


@login_required
@require_POST
def compose(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    form = ComposeForm(request.POST, user=request.user, company=company)
    sent = None
    if form.is_valid():
        d = form.cleaned_data
        send_at = local_morning(company) if d["when"] == "morning" else None
        try:
            from django.db import transaction

            with transaction.atomic():
                sent = message_queue(
                    actor=request.user, mailbox=d["mailbox"], company=company, contact=d["contact"],
                    to=[d["contact"].email] if d["contact"].email else [], subject=d["subject"], body=d["body"],
                    template=d["template"], document=d["document"], tracking=d["tracking"], send_at=send_at,
                )  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            form = None
    return render(request, "mailbox/_company_panel_body.html", _panel_ctx(request, company, form, sent))


# --- tracking (public: the customer's mail client calls these) ---------------------------------------


def track_click(request, token: str):
    try:
        message_id, url = signing.loads(token, salt=rendering.CLICK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404 from None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise Http404
    services.tracking_record(message_id=int(message_id), kind=TrackingKind.CLICK, url=url,
                             user_agent=request.headers.get("User-Agent", ""))  # fmt: skip
    return HttpResponseRedirect(url)


def track_open(request, token: str):
    try:
        message_id = signing.loads(token, salt=rendering.OPEN_SALT)
        services.tracking_record(message_id=int(message_id), kind=TrackingKind.OPEN,
                                 user_agent=request.headers.get("User-Agent", ""))  # fmt: skip
    except (signing.BadSignature, ValueError, TypeError):
        pass  # a pixel never fails visibly
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # RFC 8058 one-click: the recipient's mail provider POSTs without a session
def unsubscribe(request, token: str):
    try:
        message_id = int(signing.loads(token, salt=rendering.UNSUB_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return render(request, "mailbox/unsubscribe.html", {"bad": True}, status=400)
    done = False
    if request.method == "POST":
        done = services.tracking_record(message_id=message_id, kind=TrackingKind.UNSUBSCRIBE)
    return render(request, "mailbox/unsubscribe.html", {"done": done, "token": token,
                                                        "action": reverse("mailbox:unsubscribe", args=[token])})
