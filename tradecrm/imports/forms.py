"""HTML forms of the import screens. They carry raw choices only: the import services check the
file, the mapping and the options, and their ValidationError is put back on these fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tradecrm.core import geo
from tradecrm.customers.forms import BLANK, assignable_users
from tradecrm.customers.selectors import tags_for_user
from tradecrm.customers.widgets import FastSelect

from .models import Entity

ON_DUPLICATE = [
    ("merge", _("Merge into the existing record (fill its empty fields, add new phones, e-mails, tags)")),
    ("skip", _("Skip the row (the existing record stays as it is)")),
    ("create", _("Create a new record anyway")),
]
NOT_IMPORTED = ("", _("— not imported —"))


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.HiddenInput):
            continue
        if isinstance(w, forms.CheckboxInput | forms.RadioSelect):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        else:
            w.attrs.setdefault("class", "form-control")


# the services' names of option fields → the form's
FIELD_ALIASES = {"owner_id": "owner", "tag_ids": "tags"}


def apply_errors(form: forms.Form, exc: ValidationError, default_field: str | None = None) -> None:
    """A service's ValidationError onto the form: {field: [messages]} on those fields (the rest on
    `default_field` or the form), a plain list on `default_field` or the form."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            field = FIELD_ALIASES.get(field, field)
            target = field if field in form.fields else default_field
            form.add_error(target if target in form.fields else None, messages)
    else:
        form.add_error(default_field, exc.messages)
    for name in form.errors:
        if name in form.fields:
            css = form.fields[name].widget.attrs.get("class", "")
            if "is-invalid" not in css:
                form.fields[name].widget.attrs["class"] = f"{css} is-invalid".strip()


class UploadForm(forms.Form):
    """Step 1: the file, what it holds, where it comes from and (optionally) a saved mapping."""

    file = forms.FileField(label=_("File"), required=False)
    entity = forms.ChoiceField(label=_("What the file holds"))
    source = forms.ChoiceField(label=_("Where it comes from"))
    mapping_name = forms.ChoiceField(label=_("Saved mapping"), required=False)

    def __init__(self, *args, entities, sources, mapping_names, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = entities
        self.fields["source"].choices = sources
        self.fields["mapping_name"].choices = [("", _("— match the columns automatically —"))] + [
            (n, n) for n in mapping_names
        ]
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.tsv,.xlsx,.xlsm,.xls,.xlsb,.ods,.vcf"
        _styled(self)
        self.fields["entity"].widget.attrs["data-testid"] = "import-entity"
        self.fields["source"].widget.attrs["data-testid"] = "import-source"


def _grouped_targets(entity: str, targets) -> list:
    """Target choices for a column's select; a company file's contact columns form their own group."""
    if entity != Entity.COMPANIES:
        return [NOT_IMPORTED, *[(t.field, _label(t)) for t in targets]]
    company = [(t.field, _label(t)) for t in targets if not t.field.startswith("contact_")]
    contact = [(t.field, _label(t)) for t in targets if t.field.startswith("contact_")]
    groups = [NOT_IMPORTED, (_("Company"), company)]
    if contact:
        groups.append((_("Contact (one per row)"), contact))
    return groups


class TargetSelect(forms.Select):
    """A column's target select. A wide file has a hundred columns with the same seventy targets:
    their options are built once per form (`options`, shared) and only the selected one is marked,
    instead of rendering every option through a template."""

    def __init__(self, options: str, attrs=None):
        super().__init__(attrs)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        html = self.options
        if value:
            needle = f'<option value="{escape(value)}">'
            html = html.replace(needle, f'<option value="{escape(value)}" selected>', 1)
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final)}>{html}</select>')  # escaped above


def _options(choices) -> str:
    out = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            inner = "".join(f'<option value="{escape(v)}">{escape(lb)}</option>' for v, lb in label)
            out.append(f'<optgroup label="{escape(value)}">{inner}</optgroup>')
        else:
            out.append(f'<option value="{escape(value)}">{escape(label)}</option>')
    return "".join(out)


def _label(target) -> str:
    # a field that may come from several columns (phones, e-mails, tags, notes) says so
    label = capfirst(str(target.label))
    return f"{label} ＋" if target.multiple else label


class MappingForm(forms.Form):
    """Step 2: one target per file column, plus the import's options.

    Columns are fields `col_<index>`; `mapping()` and `options()` give what
    `import_job_configure` takes."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    sheet = forms.ChoiceField(label=_("Sheet"), required=False)
    header_row = forms.IntegerField(label=_("Header row"), required=False, min_value=1, max_value=1000)
    owner = forms.ChoiceField(label=_("Owner of new records"), required=False, widget=FastSelect)
    tags = forms.MultipleChoiceField(
        label=_("Tags for every imported record"), required=False, widget=FastSelect(multiple=True)
    )
    on_duplicate = forms.ChoiceField(
        label=_("When a row matches an existing record"), choices=ON_DUPLICATE, widget=forms.RadioSelect
    )
    default_country = forms.ChoiceField(
        label=_("Country when the row has none"),
        required=False,
        widget=FastSelect,
        help_text=_("Also the region used to read local phone numbers without a +country code."),
    )
    create_companies = forms.BooleanField(
        label=_("Create the company when no existing one matches"), required=False
    )
    save_as = forms.CharField(
        label=_("Save this mapping as…"),
        required=False,
        max_length=120,
        strip=True,
        help_text=_(
            "A name, for the next file of this kind (e.g. “Canton Fair 2025 leads”). Leave empty to skip."
        ),
    )

    def __init__(self, *args, user, job, headers: list[str], targets, selected: dict[int, str],
                 sheets: list[str], **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.column_names = [f"col_{i}" for i in range(len(headers))]
        choices = _grouped_targets(job.entity, targets)
        options = _options(choices)
        for i, name in enumerate(self.column_names):
            self.fields[name] = forms.ChoiceField(label=headers[i] or _("(no header)"), choices=choices,
                                                  required=False, widget=TargetSelect(options))  # fmt: skip
            self.initial.setdefault(name, selected.get(i, ""))
        self.fields["sheet"].choices = [(s, s) for s in sheets]
        if len(sheets) < 2:
            del self.fields["sheet"]
        if job.file_kind == "vcf":
            del self.fields["header_row"]  # a vCard has no header row
        if user.is_admin or user.is_manager:
            self.fields["owner"].choices = [(str(u.pk), str(u)) for u in assignable_users(user)]
            self.fields["owner"].widget.choices = self.fields["owner"].choices
            self.fields["owner"].widget.attrs["data-search"] = "1"
        else:
            del self.fields["owner"]  # sales reps own what they import, as what they create
        if job.entity in (Entity.COMPANIES, Entity.CONTACTS, Entity.CUSTOMS):
            self.fields["tags"].choices = [(str(t.pk), t.name) for t in tags_for_user(user).order_by("name")]
            self.fields["tags"].widget.choices = self.fields["tags"].choices
            self.fields["tags"].widget.attrs["data-search"] = "1"
        else:
            del self.fields["tags"]
        if job.entity == Entity.PRODUCTS:
            del self.fields["default_country"]
        else:
            lang = get_language() or "en"
            self.fields["default_country"].choices = BLANK + geo.country_choices(lang)
            self.fields["default_country"].widget.choices = self.fields["default_country"].choices
            # a key of our own: another page caches ("country", lang) without the blank option
            self.fields["default_country"].widget.cache_key = ("imports-country", lang)
            self.fields["default_country"].widget.attrs["data-search"] = "1"
        if job.entity not in (Entity.CONTACTS, Entity.CUSTOMS):
            del self.fields["create_companies"]
        _styled(self)
        for name in self.column_names:
            self.fields[name].widget.attrs["data-testid"] = f"map-{name[4:]}"
            self.fields[name].widget.attrs["aria-label"] = _("Column “%(header)s” goes to") % {
                "header": self.fields[name].label
            }

    def columns(self):
        """(index, header, bound field) per file column."""
        return [(i, self.headers[i], self[name]) for i, name in enumerate(self.column_names)]

    def mapping(self) -> dict[int, str]:
        data = self.cleaned_data
        return {i: data[name] for i, name in enumerate(self.column_names) if data.get(name)}

    def options(self, user) -> dict:
        data = self.cleaned_data
        if "owner" in self.fields:
            owner_id = int(data["owner"]) if data.get("owner") else user.pk
        else:
            owner_id = user.pk
        options = {
            "owner_id": owner_id,
            "tag_ids": [int(t) for t in data.get("tags") or []],
            "on_duplicate": data.get("on_duplicate") or "merge",
            "default_country": data.get("default_country") or "",
        }
        if "create_companies" in self.fields:
            options["create_companies"] = bool(data.get("create_companies"))
        return options


def mapping_initial(user, job) -> dict:
    """The options as the job has them (or their defaults) for a first look at the mapping screen."""
    opts = job.options or {}
    initial = {
        "version": job.version,
        "sheet": job.sheet,
        "header_row": job.header_row,
        "owner": str(opts.get("owner_id") or user.pk),
        "tags": [str(t) for t in opts.get("tag_ids") or []],
        "on_duplicate": opts.get("on_duplicate") or "merge",
        "default_country": opts.get("default_country") or "",
        "create_companies": opts.get("create_companies", True),
    }
    return initial
