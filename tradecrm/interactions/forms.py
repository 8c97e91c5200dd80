"""HTML forms of the timeline. They only carry raw values: every rule is in validation.py and
runs inside the services (see customers/forms.py, ServiceForm)."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tradecrm.customers.forms import BLANK, ServiceForm, _user_choices, assignable_users
from tradecrm.customers.models import Contact
from tradecrm.customers.widgets import FastSelect

from .models import Direction, Interaction, InteractionType
from .validation import html_to_text, text_to_html, user_zone


def _label(name: str):
    return capfirst(Interaction._meta.get_field(name).verbose_name)


def _text(name: str, widget=None, **kw) -> forms.CharField:
    return forms.CharField(
        label=kw.pop("label", None) or _label(name),
        required=False,
        strip=False,
        widget=widget or forms.TextInput,
        **kw,
    )


def _select(name: str, choices=(), multiple: bool = False, **kw) -> forms.Field:
    from tradecrm.customers.forms import MultiValueField

    field_cls = MultiValueField if multiple else forms.CharField
    widget = FastSelect(choices=choices, multiple=multiple)
    return field_cls(label=kw.pop("label", None) or _label(name), required=False, widget=widget, **kw)


def contact_choices(contacts) -> list[tuple[str, str]]:
    return [(str(c.pk), c.full_name or str(c.pk)) for c in contacts]


def body_as_text(body_html: str) -> str | None:
    """The plain text a stored body was made from, or None when it holds formatting that plain
    text cannot express (then the edit form edits it as HTML)."""
    text = html_to_text(body_html.replace("<br>", "\n"))
    return text if text_to_html(text) == body_html else None


class InteractionForm(ServiceForm):
    type = _select("type", InteractionType.choices)
    direction = _select("direction", [(v, label) for v, label in Direction.choices])
    occurred_at = _text(
        "occurred_at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In your time zone."),
    )
    duration_minutes = _text("duration_minutes", widget=forms.NumberInput(attrs={"min": 0}))
    subject = _text("subject", widget=forms.TextInput(attrs={"maxlength": 255}))
    body = _text("body", widget=forms.Textarea(attrs={"rows": 4}))
    body_format = forms.CharField(widget=forms.HiddenInput, required=False)
    contact = _select("contact")
    contacts = _select("contacts", multiple=True)
    participants = _select("participants", multiple=True)

    quick_fields = ("type", "direction", "occurred_at", "contact", "subject", "body")
    sections = [
        (
            _("Interaction"),
            ["type", "direction", "occurred_at", "duration_minutes", "contact", "subject", "body"],
        ),
        (_("Who else"), ["contacts", "participants"]),
    ]

    def __init__(
        self, *args, user, company, contacts: list[Contact], interaction: Interaction | None = None, **kwargs
    ):
        current_participants: list[int] = []
        current_contacts: list[int] = []
        if interaction is not None:
            current_participants = list(interaction.participants.values_list("pk", flat=True))
            current_contacts = list(interaction.contacts.values_list("pk", flat=True))
            if "initial" not in kwargs:
                kwargs["initial"] = interaction_initial(
                    interaction, user, current_contacts, current_participants
                )
        super().__init__(*args, **kwargs)
        people = contact_choices(contacts)
        self.fields["contact"].widget.choices = BLANK + people
        self.fields["contacts"].widget.choices = people
        self.fields["participants"].widget.choices = _user_choices(
            assignable_users(user, current_participants)
        )
        for name in ("contacts", "participants"):
            self.fields[name].widget.attrs["data-search"] = "1"
        if interaction is not None and self.initial.get("body_format") == "html":
            self.fields["body"].help_text = _(
                "HTML: basic formatting and links are kept, everything else removed."
            )

    def service_data(self) -> dict:
        data = super().service_data()
        data["body_format"] = data.get("body_format") or "text"
        return data

    def quick(self):
        return [self[n] for n in self.quick_fields]


def interaction_initial(i: Interaction, user, contact_ids: list[int], participant_ids: list[int]) -> dict:
    text = body_as_text(i.body)
    return {
        "type": i.type,
        "direction": i.direction,
        "occurred_at": i.occurred_at.astimezone(user_zone(user)).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "" if i.duration_minutes is None else str(i.duration_minutes),
        "subject": i.subject,
        "body": text if text is not None else i.body,
        "body_format": "text" if text is not None else "html",
        "contact": str(i.contact_id or ""),
        "contacts": [str(c) for c in contact_ids],
        "participants": [str(p) for p in participant_ids],
        "version": i.version,
    }


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
