"""HTML forms for follow-ups and reminder rules. They carry raw values only: every rule lives in
validation.py and runs inside the services, whose ValidationError `apply_errors` puts on the
fields (so the browser and the API give the same messages)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.customers.forms import ServiceForm, assignable_users
from tradecrm.customers.models import Status
from tradecrm.interactions.models import Direction, InteractionType

from .models import CadenceRule, FollowUp, Priority, Recurrence, RuleKind
from .validation import user_zone


def _local_input(moment, user) -> str:
    return timezone.localtime(moment, user_zone(user)).strftime("%Y-%m-%dT%H:%M") if moment else ""


class FollowUpForm(ServiceForm):
    title = forms.CharField(
        label=_("What to do"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Call about the sample feedback")}),
    )
    due_at = forms.CharField(
        label=_("Due (your time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=Recurrence.choices, required=False)
    recurrence_interval = forms.CharField(
        label=_("Every N days"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 366})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, company, contacts=None, followup: FollowUp | None = None, **kwargs):
        if followup is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": followup.title,
                "due_at": _local_input(followup.due_at, user),
                "priority": followup.priority,
                "contact": followup.contact_id or "",
                "assignee": followup.assignee_id,
                "recurrence": followup.recurrence,
                "recurrence_interval": followup.recurrence_interval or "",
                "notes": followup.notes,
                "version": followup.version,
            }
        super().__init__(*args, **kwargs)
        if contacts is None:
            contacts = list(company.contacts.order_by("-is_primary", "last_name", "first_name", "id"))
        self.fields["contact"].choices = [("", "—")] + [(str(c.pk), c.full_name) for c in contacts]
        current = [followup.assignee_id] if followup is not None else []
        self.fields["assignee"].choices = [(str(u.pk), str(u)) for u in assignable_users(user, current)]
        self.initial.setdefault("assignee", str(user.pk))

    def service_data(self) -> dict:
        data = super().service_data()
        if not data.get("recurrence"):
            data["recurrence_interval"] = None
        return data


class CompleteForm(ServiceForm):
    """Done in one step, optionally writing what happened to the timeline."""

    log = forms.BooleanField(label=_("Log the interaction"), required=False, initial=True)
    log_type = forms.ChoiceField(
        label=_("Type"), choices=InteractionType.choices, initial=InteractionType.CALL
    )
    log_direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND, required=False
    )
    log_body = forms.CharField(
        label=_("What was said"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def log_data(self) -> dict | None:
        d = self.cleaned_data
        if not d.get("log"):
            return None
        return {
            "type": d["log_type"],
            "direction": d.get("log_direction") or "",
            "body": d.get("log_body") or "",
        }

    def apply_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            renamed = {}
            for field, messages in exc.message_dict.items():
                name = field.replace("log.", "log_") if field.startswith("log.") else field
                renamed.setdefault(name if name in self.fields else "__all__", []).extend(messages)
            exc = ValidationError(renamed)
        super().apply_errors(exc)


class RuleForm(ServiceForm):
    name = forms.CharField(label=pgettext_lazy("reminder rule", "Name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    status = forms.ChoiceField(
        label=_("Lifecycle status"), choices=[("", _("Any"))] + Status.choices, required=False
    )
    days = forms.CharField(label=_("Days"), required=False, widget=forms.NumberInput(attrs={"min": 1}))
    hours = forms.CharField(
        label=_("Hours"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_("For unanswered inquiries only."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, rule: CadenceRule | None = None, **kwargs):
        if rule is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": rule.name, "kind": rule.kind, "status": rule.status, "days": rule.days or "",
                "hours": rule.hours or "", "priority": rule.priority, "active": rule.active, "version": rule.version,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
