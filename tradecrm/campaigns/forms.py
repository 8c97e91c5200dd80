from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tradecrm.mailbox.models import TemplateLanguage

from .models import WinnerMetric

LANGUAGES = TemplateLanguage.choices


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    segment = forms.TypedChoiceField(
        label=_("Saved segment"),
        coerce=int,
        help_text=_("Its customers that the campaign's owner sees get the mail."),
    )
    mailboxes = forms.TypedMultipleChoiceField(
        label=_("Send from"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The hourly and daily limits apply to each mailbox."),
    )
    fallback_language = forms.ChoiceField(
        label=_("Fallback language"),
        choices=LANGUAGES,
        help_text=_("For contacts whose language has no message."),
    )
    split_b = forms.IntegerField(
        label=_("A/B test: share getting subject B (%)"),
        min_value=0,
        max_value=99,
        initial=0,
        help_text=_("0 = no test; 50 = half and half."),
    )
    winner_metric = forms.ChoiceField(label=_("Winner by"), choices=WinnerMetric.choices)
    window_start = forms.IntegerField(label=_("Send from (hour, recipient's time)"), initial=9)
    window_end = forms.IntegerField(label=_("Send until (hour, recipient's time)"), initial=11)
    skip_weekends = forms.BooleanField(
        label=_("Not on the recipient's weekend"), required=False, initial=True
    )
    per_hour = forms.IntegerField(label=_("At most per hour per mailbox"), initial=200)
    per_day = forms.IntegerField(label=_("At most per day per mailbox"), initial=1000)
    tracking = forms.BooleanField(label=_("Track clicks and opens"), required=False, initial=True)
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        initial=30,
        help_text=_("Opportunities and orders created this many days after the mail count for the campaign."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, segments=(), mailboxes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", "—")] + [(s.pk, s.name) for s in segments]
        self.fields["mailboxes"].choices = [(m.pk, m.email) for m in mailboxes]
        for code, _label in LANGUAGES:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (A)"), max_length=255, required=False
            )
            self.fields[f"subject_b_{code}"] = forms.CharField(
                label=_("Subject B"), max_length=255, required=False
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 8})
            )

    SETTINGS = ("name", "fallback_language", "split_b", "winner_metric", "window_start", "window_end",
                "skip_weekends", "per_hour", "per_day", "tracking", "attribution_days")  # fmt: skip

    def settings_fields(self):
        return [self[f] for f in ("name", "segment", "mailboxes", *self.SETTINGS[1:])]

    def languages(self):
        out = []
        for code, label in LANGUAGES:
            out.append({"code": code, "label": label,
                        "fields": [self[f"subject_{code}"], self[f"subject_b_{code}"], self[f"body_{code}"]],
                        "open": bool(self[f"subject_{code}"].value() or self[f"body_{code}"].value())
                        or code in ("en", "zh")})  # fmt: skip
        return out

    def service_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d.get(k) for k in self.SETTINGS}
        data["segment"] = d.get("segment")
        data["mailboxes"] = d.get("mailboxes") or []
        data["contents"] = [
            {"language": code, "subject": d.get(f"subject_{code}", ""), "subject_b": d.get(f"subject_b_{code}", ""),
             "body": d.get(f"body_{code}", "")}
            for code, _label in LANGUAGES if d.get(f"subject_{code}") or d.get(f"body_{code}")
        ]  # fmt: skip
        return data

    def add_service_errors(self, errors: dict) -> None:
        for key, messages in errors.items():
            field = key
            if key.startswith("contents."):
                parts = key.split(".")
                field = f"{parts[2]}_{parts[1]}" if len(parts) == 3 else None
            elif key == "contents":
                field = None
            for m in messages:
                self.add_error(field if field in self.fields else None, m)

    @staticmethod
    def initial_from(campaign) -> dict:
        initial = {f: getattr(campaign, f) for f in CampaignForm.SETTINGS}
        initial["segment"] = campaign.segment_id
        initial["mailboxes"] = list(campaign.mailboxes.values_list("id", flat=True))
        initial["version"] = campaign.version
        for c in campaign.contents.all():
            initial[f"subject_{c.language}"] = c.subject
            initial[f"subject_b_{c.language}"] = c.subject_b
            initial[f"body_{c.language}"] = c.body
        return initial
