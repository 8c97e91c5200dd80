from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SmtpSecurity, TemplateLanguage


class MailboxForm(forms.Form):
    email = forms.CharField(label=_("Email address"), max_length=254)
    display_name = forms.CharField(label=_("Sender name"), max_length=120, required=False)
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993)
    imap_ssl = forms.BooleanField(label=_("IMAP over SSL/TLS"), required=False, initial=True)
    smtp_host = forms.CharField(label=_("SMTP server"), max_length=255)
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535, initial=587)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=SmtpSecurity.choices,
                                      initial=SmtpSecurity.STARTTLS)
    username = forms.CharField(label=_("User name"), max_length=254)
    password = forms.CharField(label=_("Password or app password"), widget=forms.PasswordInput, required=False,
                               help_text=_("Stored encrypted. Leave empty to keep the saved one."))
    sync_enabled = forms.BooleanField(label=_("Sync this mailbox"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, require_password: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].required = require_password

    def clean(self):
        data = super().clean()
        if not data.get("password"):
            data.pop("password", None)
        return data


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    language = forms.ChoiceField(label=_("Language"), choices=TemplateLanguage.choices)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 12}),
                           help_text=_("Merge fields: {{ contact.first_name }}, {{ contact.last_name }}, "
                                       "{{ company.name }}, {{ user.first_name }}, {{ user.name }}."))
    shared = forms.BooleanField(label=_("Shared with everyone"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ComposeForm(forms.Form):
    mailbox = forms.ModelChoiceField(label=_("From"), queryset=None)
    contact = forms.ModelChoiceField(label=_("To"), queryset=None)
    template = forms.ModelChoiceField(label=_("Template"), queryset=None, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    document = forms.ChoiceField(label=_("Attach quotation / PI (PDF)"), required=False)
    tracking = forms.BooleanField(label=_("Track link clicks (and opens, which are unreliable)"), required=False,
                                  initial=True)
    when = forms.ChoiceField(label=_("Send"), choices=[("now", _("Now")),
                                                        ("morning", _("Customer's next morning (09:00 their time)"))],
                             initial="now")

    def __init__(self, *args, user, company, **kwargs):
        super().__init__(*args, **kwargs)
        from tradecrm.customers.models import Contact
        from tradecrm.documents.selectors import proformas_for_user, quotations_for_user

        from .selectors import mailboxes_for_user, templates_for_user

        self.company = company
        self.user = user
        self.fields["mailbox"].queryset = mailboxes_for_user(user)
        self.fields["contact"].queryset = Contact.objects.filter(company=company).exclude(email="").order_by("id")
        self.fields["template"].queryset = templates_for_user(user)
        docs = [("", "—")]
        for kind, qs in (("quotation", quotations_for_user(user)), ("proforma", proformas_for_user(user))):
            for d in qs.filter(company=company).order_by("-id")[:20]:
                docs.append((f"{kind}:{d.pk}", f"{kind.upper()} {d}"))
        self.fields["document"].choices = docs

    def clean_document(self):
        raw = self.cleaned_data.get("document") or ""
        if not raw:
            return None
        from tradecrm.documents.selectors import proforma_get_for_user, quotation_get_for_user

        kind, _sep, pk = raw.partition(":")
        loader = quotation_get_for_user if kind == "quotation" else proforma_get_for_user
        try:
            doc = loader(self.user, pk)
        except Exception:  # noqa: BLE001 - Http404: not theirs or gone
            raise forms.ValidationError(_("This document is not available.")) from None
        if doc.company_id != self.company.pk:
            raise forms.ValidationError(_("This document belongs to another customer."))
        return doc
