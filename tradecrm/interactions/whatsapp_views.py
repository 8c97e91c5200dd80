"""The WhatsApp import page of a customer: upload the export, check the preview (a dry run), import.

Between the preview and the import the upload waits under the data dir
(`media/whatsapp-imports/<user id>/<token>`), so the user does not send it twice; the import
deletes it, and uploads left behind are removed after a day.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tradecrm.core import geo
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.customers.widgets import FastSelect

from .services import human_size
from .whatsapp_services import whatsapp_import

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PENDING_DIR = "whatsapp-imports"
PENDING_TTL = dt.timedelta(days=1)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def split_names(raw: str) -> list[str]:
    """“Alice Wang, +86 138 0013 8000” → the names and numbers, one per comma or line."""
    return [n.strip() for n in re.split(r"[,\n;]", raw or "") if n.strip()]


def date_order_choices():
    return [
        ("", gettext_lazy("Automatic (from the dates in the chat)")),
        ("DMY", gettext_lazy("Day first (31/12/2023)")),
        ("MDY", gettext_lazy("Month first (12/31/2023)")),
        ("YMD", gettext_lazy("Year first (2023-12-31)")),
    ]


class WhatsAppImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Exported chat"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".txt,.zip,text/plain,application/zip"}
        ),
    )
    my_names = forms.CharField(
        label=gettext_lazy("Your name(s) in this chat"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "How you appear in the chat: your WhatsApp name or your number, several separated by commas. "
            "Your messages are logged as sent to the customer."
        ),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    timezone = forms.ChoiceField(
        label=gettext_lazy("Time zone of the phone that exported the chat"),
        help_text=gettext_lazy("The chat shows times in this zone; they are converted from it."),
        widget=FastSelect(attrs={"class": "form-select", "data-search": "1"}, cache_key=("tz",)),
    )
    date_order = forms.ChoiceField(
        label=gettext_lazy("Date format"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("timezone", user.timezone)
        kwargs["initial"].setdefault("my_names", user.get_full_name())
        # Ids new on every render: htmx "settles" an element whose id the old content had too by
        # putting back the old attributes first, and Tom Select then wraps the select twice.
        kwargs.setdefault("auto_id", f"wa{uuid.uuid4().hex[:8]}_%s")
        super().__init__(*args, **kwargs)
        zones = [(z, z.replace("_", " ")) for z in sorted(geo.timezone_names())]
        self.fields["timezone"].choices = zones
        self.fields["timezone"].widget.choices = zones
        self.fields["date_order"].choices = date_order_choices()
        self.fields["file"].help_text = _(
            "The .txt file or the .zip (with media) that WhatsApp's “Export chat” made, at most %(limit)s."
        ) % {"limit": human_size(MAX_UPLOAD_BYTES)}


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > MAX_UPLOAD_BYTES + 64 * 1024  # the form fields besides the file are small


def too_big_message(size: int | None = None) -> str:
    limit = human_size(MAX_UPLOAD_BYTES)
    if size is None:
        return _("The file is larger than %(limit)s, the most that can be imported at once.") % {
            "limit": limit
        }
    return _("The file is %(size)s; at most %(limit)s can be imported at once.") % {
        "size": human_size(size),
        "limit": limit,
    }


def _pending_path(user, token: str) -> str:
    return f"{PENDING_DIR}/{user.pk}/{token}"


def _drop_stale(user) -> None:
    folder = f"{PENDING_DIR}/{user.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - PENDING_TTL
    for name in files:
        path = f"{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except OSError:
            pass


def _render(request, company, form, result=None, token="", file_name="", status=200):
    ctx = {
        "nav": "customers",
        "company": company,
        "form": form,
        "result": result,
        "token": token,
        "file_name": file_name,
        "me": {s.name for s in result.senders if s.direction == "out"} if result else set(),
        "limit": human_size(MAX_UPLOAD_BYTES),
    }
    if request.htmx:
        # htmx swaps only 2xx answers: the form comes back with its errors marked, as 200
        return render(request, "interactions/whatsapp_step.html", ctx)
    return render(request, "interactions/whatsapp_import.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def whatsapp_import_view(request, pk: int):
    """GET: the upload form. POST with a file: the preview. POST with the preview's token:
    `action=import` imports, `action=preview` previews again (another date format or time zone)."""
    user = request.user
    company = company_get_for_user(user, pk)
    if request.method == "GET":
        return _render(request, company, WhatsAppImportForm(user=user))
    if _too_big(request):
        # refused before the body is read: a 2 GB upload must not fill the disk first
        form = WhatsAppImportForm({"timezone": user.timezone}, user=user)
        form.full_clean()
        form.add_error("file", too_big_message())
        return _render(request, company, form, status=413)
    form = WhatsAppImportForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render(request, company, form, status=422)
    opts = {
        "timezone": form.cleaned_data["timezone"],
        "date_order": form.cleaned_data["date_order"] or None,
    }
    token = request.POST.get("token", "")
    if token:
        return _from_pending(request, company, form, token, opts)
    upload = form.cleaned_data["file"]
    if upload is None:
        form.add_error("file", _("Choose the exported chat file."))
        return _render(request, company, form, status=422)
    if upload.size > MAX_UPLOAD_BYTES:
        form.add_error("file", too_big_message(upload.size))
        return _render(request, company, form, status=413)
    names = split_names(form.cleaned_data["my_names"])
    try:
        result = whatsapp_import(
            actor=user, company=company, file=upload, my_names=names, dry_run=True, **opts
        )
    except ValidationError as exc:
        _apply(form, exc)
        return _render(request, company, form, status=422)
    _drop_stale(user)
    token = uuid.uuid4().hex
    upload.seek(0)
    default_storage.save(_pending_path(user, token), upload)
    return _render(request, company, form, result, token=token, file_name=upload.name)


def _apply(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _from_pending(request, company, form, token: str, opts: dict):
    user = request.user
    path = _pending_path(user, token) if _TOKEN.match(token) else ""
    if not path or not default_storage.exists(path):
        form.add_error("file", _("The uploaded file has expired or was imported already; choose it again."))
        return _render(request, company, form, status=422)
    # in the preview the user ticks which senders are them
    names = [n for n in request.POST.getlist("me") if n.strip()]
    file_name = request.POST.get("file_name", "")[:255]
    dry_run = request.POST.get("action") != "import"
    try:
        with default_storage.open(path, "rb") as fh:
            result = whatsapp_import(
                actor=user,
                company=company,
                file=fh,
                my_names=names,
                file_name=file_name,
                dry_run=dry_run,
                **opts,
            )
    except ValidationError as exc:
        _apply(form, exc)
        return _render(request, company, form, status=422)
    if dry_run:
        return _render(request, company, form, result, token=token, file_name=file_name)
    default_storage.delete(path)
    text = _("WhatsApp chat imported: %(created)d new messages, %(dupes)d already on the timeline.") % {
        "created": result.created,
        "dupes": result.duplicates,
    }
    if result.attachments_stored:
        text += " " + _("%(n)d media files attached.") % {"n": result.attachments_stored}
    messages.success(request, text)
    if result.attachments_refused:
        messages.warning(
            request,
            _("Media files not attached: %(names)s")
            % {"names": "; ".join(r["reason"] for r in result.attachments_refused[:10])},
        )
    url = reverse("customers:company_detail", args=[company.pk])
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)
