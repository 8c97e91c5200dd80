"""The customer archive (客户档案): Company, Contact, Tag."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.crypto import EncryptedTextField, blind_index
from tradecrm.core.models import TimeStamped

TAX_ID_LABEL = "customers.company.tax_id"


def tax_id_hash(tax_id: str) -> str:
    """Blind index of a tax id for exact lookups: upper case, letters and digits only, so
    "de 123-456" and "DE123456" find each other. "" for no tax id."""
    compact = "".join(ch for ch in (tax_id or "").upper() if ch.isalnum())
    return blind_index(compact, TAX_ID_LABEL) if compact else ""


class BusinessType(models.TextChoices):
    MANUFACTURER = "manufacturer", _("Manufacturer")
    TRADER = "trader", _("Trading company")
    IMPORTER = "importer", _("Importer")
    WHOLESALER = "wholesaler", _("Wholesaler")
    DISTRIBUTOR = "distributor", _("Distributor")
    RETAILER = "retailer", _("Retailer")
    AGENT = "agent", _("Agent")
    PURCHASING_OFFICE = "purchasing_office", _("Purchasing office")
    PROJECT_CONTRACTOR = "project_contractor", _("Project contractor")


class Source(models.TextChoices):
    TRADE_SHOW = "trade_show", _("Trade show")
    CUSTOMS = "customs", _("Customs data")
    B2B = "b2b", _("B2B platform")
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    SOCIAL = "social", _("Social media")
    COLD = "cold", _("Cold outreach")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    SAMPLE = "sample", _("Sample")
    FIRST_ORDER = "first_order", _("First order")
    REPEAT = "repeat", _("Repeat buyer")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class CompanySize(models.TextChoices):
    XS = "1-10", _("1–10 employees")
    S = "11-50", _("11–50 employees")
    M = "51-200", _("51–200 employees")
    L = "201-1000", _("201–1,000 employees")
    XL = "1000+", _("More than 1,000 employees")


class PurchaseBand(models.TextChoices):
    LT50K = "<50k", _("Under USD 50k a year")
    K200 = "50k-200k", _("USD 50k–200k a year")
    M1 = "200k-1m", _("USD 200k–1M a year")
    M5 = "1m-5m", _("USD 1M–5M a year")
    GT5M = ">5m", _("Over USD 5M a year")


class CreditRating(models.TextChoices):
    UNRATED = "", _("Not rated")
    A = "A", _("A · excellent")
    B = "B", _("B · good")
    C = "C", _("C · fair")
    D = "D", _("D · poor")


class Seniority(models.TextChoices):
    OWNER = "owner", _("Owner / executive")
    DIRECTOR = "director", _("Director")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")
    OTHER = "other", _("Other")


class Tag(TimeStamped):
    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("colour"), max_length=7, default="#206bc4")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="tags",
                             verbose_name=_("team"), help_text=_("Empty: shared by all teams."))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="tag_unique_name_per_team",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return self.name


class Company(TimeStamped):
    """A customer (or prospect) company. `version` guards concurrent edits; `search_text` is the
    lower-cased text that free-text search indexes (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)."""

    name = models.CharField(_("company name"), max_length=255)
    name_local = models.CharField(_("local-language name"), max_length=255, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    address = models.TextField(_("address"), blank=True)
    website = models.CharField(_("website"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    email_domains = models.JSONField(_("email domains"), default=list, blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    # encrypted at rest (core/crypto.py); exact lookups go through tax_id_hash (blind index)
    tax_id = EncryptedTextField(_("tax / VAT number"), max_length=40, blank=True, default="", db_default="",
                                help_text=_("Checked with its country's rules where they are known."))
    tax_id_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False,
                                   db_index=True)
    business_type = models.CharField(_("business type"), max_length=24, choices=BusinessType.choices, blank=True)
    company_size = models.CharField(_("company size"), max_length=10, choices=CompanySize.choices, blank=True)
    annual_purchase = models.CharField(_("annual purchase"), max_length=10, choices=PurchaseBand.choices, blank=True)
    main_products = models.TextField(_("main products"), blank=True)
    hs_codes = models.JSONField(_("HS codes of interest"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    source_detail = models.CharField(_("source detail"), max_length=255, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    office_start = models.TimeField(_("office opens"), null=True, blank=True)
    office_end = models.TimeField(_("office closes"), null=True, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)
    currency = models.CharField(_("settlement currency"), max_length=3, blank=True)
    credit_rating = models.CharField(_("credit rating"), max_length=1, choices=CreditRating.choices, blank=True)
    cooperation_since = models.DateField(_("cooperating since"), null=True, blank=True)
    status = models.CharField(_("lifecycle status"), max_length=16, choices=Status.choices, default=Status.LEAD)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="owned_companies", verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="companies", verbose_name=_("team"))
    notes = EncryptedTextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies", blank=True)
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, through="CompanyFollower",
                                       related_name="followed_companies", blank=True)
    search_text = models.TextField(default="", editable=False)
    # Kept by the interaction and follow-up services (and the reminder scan), read on every card.
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, editable=False)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("profile last reviewed"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="company_updated_idx"),
            # with the visibility columns and the source: the new-customers report's partial months
            # read from the index alone
            models.Index(fields=["created_at", "id", "team", "owner", "source"], name="company_created_idx"),
            # a customer's visibility columns and what the reports group by, by id: the dashboard
            # joins a date range of orders to their customers through this small index instead of
            # the wide table rows (1M-customer bench, SQLite: 128 ms -> 68 ms for 50k orders)
            models.Index(fields=["id", "team", "owner", "country", "source", "created_at"],
                         name="company_visibility_idx"),
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="company_owner_idx"),
            models.Index(fields=["team", "updated_at", "id"], name="company_team_idx"),
            models.Index(fields=["country", "updated_at", "id"], name="company_country_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="company_status_idx"),
            models.Index(fields=["source", "updated_at", "id"], name="company_source_idx"),
            models.Index(fields=["business_type", "updated_at", "id"], name="company_btype_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.tax_id_hash = tax_id_hash(self.tax_id)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "tax_id" in update_fields:
            kwargs["update_fields"] = {*update_fields, "tax_id_hash"}
        super().save(*args, **kwargs)


class CompanyFollower(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="company_follower_unique")]
        indexes = [models.Index(fields=["user", "company"], name="follower_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.company_id}"


class CompanyTag(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "tag"], name="company_tag_unique")]
        indexes = [models.Index(fields=["tag", "company"], name="companytag_tag_idx")]

    def __str__(self) -> str:
        return f"{self.company_id} tagged {self.tag_id}"


class Contact(TimeStamped):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts",
                                verbose_name=_("company"))
    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    name_local = models.CharField(_("name in local script"), max_length=120, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    seniority = models.CharField(_("seniority"), max_length=12, choices=Seniority.choices, blank=True)
    emails = models.JSONField(_("emails"), default=list, blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    email = models.CharField(_("primary email"), max_length=254, blank=True, db_index=True, editable=False)
    whatsapp = models.CharField(_("WhatsApp"), max_length=32, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    linkedin = models.CharField(_("LinkedIn"), max_length=255, blank=True)
    skype = models.CharField(_("Skype"), max_length=64, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["company", "is_primary"], name="contact_company_idx"),
            # the contact list pages newest-first (selectors.contacts_for_user)
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.name_local or self.email


class CompanyHsCode(models.Model):
    """One HS code of interest of a customer (`Company.hs_codes`), one row per code, so that the
    customer list's HS-code filter can find the customers interested in a code prefix by an index
    range instead of reading every customer's list. Written only by database triggers on the
    company table (migration 0010), which also catch the importers' raw inserts; never by code."""

    company = models.ForeignKey(Company, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    code = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["code", "company"], name="company_hs_code_idx")]

    def __str__(self) -> str:
        return self.code


class SavedSegment(TimeStamped):
    """A smart list (保存的客户分组): a named combination of the customer list's filters. Its members
    are computed when it is read, for whoever reads it, so a shared segment never shows a customer
    its reader could not see. `filters` holds the validated filter values (`customers.filtering`)."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments",
                              verbose_name=_("owner"))
    # The owner's team when it was shared: teammates (and the managers above the team) see it.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"))
    shared = models.BooleanField(_("shared with my team"), default=False)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("saved segment")
        verbose_name_plural = _("saved segments")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["owner", "name"], name="segment_owner_idx"),
            models.Index(fields=["team", "shared"], name="segment_team_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class MarketNote(TimeStamped):
    """What the company knows about one target market: a country (ISO code) or a region (EU, GCC,
    ASEAN, LATAM …, see `customers.regions`). Read by everyone, edited by managers and admins."""

    code = models.CharField(_("market"), max_length=8, unique=True,
                            help_text=_("A two-letter country code (DE) or a region (EU, GCC, ASEAN, LATAM)."))
    notes = models.TextField(_("market notes"), blank=True)
    regulations = models.TextField(_("regulations"), blank=True)
    certifications = models.JSONField(_("required certifications"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("market note")
        verbose_name_plural = _("market notes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Competitor(TimeStamped):
    """A competitor seen in a market, with what it sells and at what prices."""

    market = models.ForeignKey(MarketNote, on_delete=models.CASCADE, related_name="competitors",
                               verbose_name=_("market"))
    name = models.CharField(_("name"), max_length=200)
    website = models.CharField(_("website"), max_length=255, blank=True)
    products = models.TextField(_("products"), blank=True)
    price_currency = models.CharField(_("price currency"), max_length=3, blank=True)
    price_min = models.DecimalField(_("lowest price"), max_digits=14, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(_("highest price"), max_digits=14, decimal_places=2, null=True, blank=True)
    price_notes = models.TextField(_("price notes"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_min__isnull=True) | models.Q(price_max__isnull=True)
                | models.Q(price_min__lte=models.F("price_max")),
                name="competitor_price_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name
