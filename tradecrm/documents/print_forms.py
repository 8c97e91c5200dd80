"""Forms of the printed side (letterhead, bank accounts, document templates). They only collect
what was typed; the rules live in print_services, whose ValidationError lands on the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tradecrm.core.money import currency_choices
from tradecrm.customers.forms import ServiceForm

from .models import BankAccount, DocumentLanguage, DocumentTemplate, SellerProfile, SeriesKind
from .print_services import BANK_TEXT, KINDS, SELLER_TEXT


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class SellerForm(ServiceForm):
    """The letterhead: what every quotation and proforma invoice prints at the top."""

    name_en = forms.CharField(
        label=_("Company name (English)"), max_length=SELLER_TEXT["name_en"], required=False
    )
    name_zh = forms.CharField(
        label=_("Company name (Chinese)"), max_length=SELLER_TEXT["name_zh"], required=False
    )
    address_en = forms.CharField(label=_("Address (English)"), widget=_textarea(), required=False)
    address_zh = forms.CharField(label=_("Address (Chinese)"), widget=_textarea(), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=SELLER_TEXT["phone"], required=False)
    email = forms.CharField(label=_("Email"), max_length=SELLER_TEXT["email"], required=False)
    website = forms.CharField(label=_("Website"), max_length=SELLER_TEXT["website"], required=False)
    tax_id = forms.CharField(label=_("Tax / registration number"), max_length=SELLER_TEXT["tax_id"],
                             required=False)  # fmt: skip
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF, at most 2 MB; printed at the top left, up to 45 × 18 mm."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    is_default = forms.BooleanField(
        label=_("Default seller"),
        required=False,
        help_text=_("New quotations and proforma invoices are made out by the default seller."),
    )

    def __init__(self, *args, seller: SellerProfile | None = None, **kwargs):
        self.seller = seller
        if seller is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(seller, name) for name in (*SELLER_TEXT, "is_default")}
            kwargs["initial"]["version"] = seller.version
        super().__init__(*args, **kwargs)
        if seller is None or not seller.logo:
            del self.fields["remove_logo"]
        if seller is not None and seller.is_default:
            # the default stays until another profile is made the default
            self.fields["is_default"].disabled = True

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("logo", None)
        data.pop("remove_logo", None)
        if self.fields["is_default"].disabled:
            data.pop("is_default", None)
        return data


class BankAccountForm(ServiceForm):
    label = forms.CharField(label=_("Label"), max_length=BANK_TEXT["label"], required=False,
                            help_text=_("For you, e.g. “BOC USD”; not printed."))  # fmt: skip
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    beneficiary = forms.CharField(label=_("Beneficiary"), max_length=BANK_TEXT["beneficiary"], required=False)
    beneficiary_address = forms.CharField(label=_("Beneficiary address"), widget=_textarea(2), required=False)
    bank_name = forms.CharField(label=_("Bank"), max_length=BANK_TEXT["bank_name"], required=False)
    bank_address = forms.CharField(label=_("Bank address"), widget=_textarea(2), required=False)
    swift = forms.CharField(label=_("SWIFT / BIC"), max_length=20, required=False,
                            help_text=_("8 or 11 characters, e.g. BKCHCNBJ92A."))  # fmt: skip
    account_number = forms.CharField(label=_("Account number"), max_length=BANK_TEXT["account_number"],
                                     required=False)  # fmt: skip
    iban = forms.CharField(label=_("IBAN"), max_length=50, required=False,
                           help_text=_("Only for accounts in IBAN countries; its check digits are verified."))  # fmt: skip
    intermediary_bank = forms.CharField(label=_("Intermediary bank"), widget=_textarea(2), required=False)
    is_default = forms.BooleanField(label=_("Default account for its currency"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                help_text=_("Switched-off accounts are not offered on new proforma invoices."))  # fmt: skip

    FIELDS = ("label", "currency", "beneficiary", "beneficiary_address", "bank_name", "bank_address", "swift",
              "account_number", "iban", "intermediary_bank", "is_default", "active")  # fmt: skip

    def __init__(
        self, *args, account: BankAccount | None = None, seller: SellerProfile | None = None, **kwargs
    ):
        if account is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(account, name) for name in self.FIELDS}
            kwargs["initial"]["version"] = account.version
        elif seller is not None and "initial" not in kwargs:
            kwargs["initial"] = {"beneficiary": seller.name_en, "beneficiary_address": seller.address_en,
                                 "active": True}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "—"), *currency_choices()]


class TemplateForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    kind = forms.ChoiceField(label=_("Document"), choices=())
    language = forms.ChoiceField(label=_("Language"), choices=DocumentLanguage.choices)
    source = forms.CharField(
        label=_("Template"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "font-monospace"}),
    )
    active = forms.BooleanField(label=_("In use"), required=False,
                                help_text=_("Replaces the template in use for this document and language."))  # fmt: skip

    def __init__(self, *args, template: DocumentTemplate | None = None, **kwargs):
        if template is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": template.name, "kind": template.kind, "language": template.language,
                                 "source": template.source, "active": template.active,
                                 "version": template.version}  # fmt: skip
        super().__init__(*args, **kwargs)
        labels = dict(SeriesKind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in KINDS]
        self.fields["source"].widget.attrs["class"] = "form-control font-monospace"
