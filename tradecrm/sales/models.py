"""The front of the export deal flow: inquiries (询盘), pipelines with stages, opportunities (商机)
with their stage history, and samples (寄样).

Inquiries, opportunities and samples are visible exactly when their customer is (an inquiry not yet
linked to a customer is visible to its owner, its team's managers and administrators).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.catalog.models import PRICE, QTY, Unit
from tradecrm.core.models import TimeStamped


class InquiryChannel(models.TextChoices):
    ALIBABA = "alibaba", _("Alibaba.com")
    MADE_IN_CHINA = "made_in_china", _("Made-in-China.com")
    GLOBAL_SOURCES = "global_sources", _("Global Sources")
    OTHER_B2B = "b2b", _("Other B2B platform")
    WEBSITE = "website", _("Website form")
    EMAIL = "email", _("Email")
    TRADE_SHOW = "trade_show", _("Trade show")
    SOCIAL = "social", _("Social media")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Phone")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class InquiryStatus(models.TextChoices):
    NEW = "new", _("New")
    REPLIED = "replied", _("Replied")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted to opportunity")
    SPAM = "spam", _("Spam / not genuine")
    CLOSED = "closed", _("Closed")


class Inquiry(TimeStamped):
    """A buyer's request for products and prices, from any channel. Until it is linked to a customer
    the buyer's details live in the `buyer_*` fields; converting it links (or creates) the customer
    and opens an opportunity."""

    channel = models.CharField(_("channel"), max_length=16, choices=InquiryChannel.choices)
    channel_detail = models.CharField(_("channel detail"), max_length=255, blank=True,
                                      help_text=_("e.g. RFQ number, show name and booth, landing page."))
    received_at = models.DateTimeField(_("received"))
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="inquiries", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="inquiries", verbose_name=_("contact"))
    buyer_name = models.CharField(_("buyer's name"), max_length=255, blank=True)
    buyer_company = models.CharField(_("buyer's company"), max_length=255, blank=True)
    buyer_email = models.CharField(_("buyer's email"), max_length=254, blank=True)
    buyer_phone = models.CharField(_("buyer's phone"), max_length=32, blank=True)
    buyer_country = models.CharField(_("buyer's country"), max_length=2, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)
    destination_country = models.CharField(_("destination country"), max_length=2, blank=True)
    destination_port = models.CharField(_("destination port"), max_length=120, blank=True)
    target_currency = models.CharField(_("currency"), max_length=3, blank=True)
    incoterm = models.CharField(_("Incoterm"), max_length=3, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=InquiryStatus.choices, default=InquiryStatus.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="inquiries", verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="inquiries", verbose_name=_("team"))
    replied_at = models.DateTimeField(_("first reply"), null=True, blank=True)
    opportunity = models.OneToOneField("sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="inquiry", verbose_name=_("opportunity"))
    external_id = models.CharField(max_length=128, blank=True, default="")
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        indexes = [
            models.Index(fields=["received_at", "id"], name="inquiry_received_idx"),
            models.Index(fields=["company", "received_at"], name="inquiry_company_idx"),
            models.Index(fields=["owner", "status", "received_at"], name="inquiry_owner_idx"),
            models.Index(fields=["team", "status", "received_at"], name="inquiry_team_idx"),
            models.Index(fields=["status", "received_at"], name="inquiry_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inquiry_external_unique",
                                    condition=~Q(external_id="")),
        ]

    def __str__(self) -> str:
        return self.subject or self.buyer_company or self.buyer_name or f"#{self.pk}"


class InquiryItem(models.Model):
    """A product the buyer asks about, with quantity and target price."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("product"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), **QTY, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, blank=True)
    target_price = models.DecimalField(_("target price"), **PRICE, null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                                   name="inquiry_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product_id)


class Pipeline(TimeStamped):
    """A sales process with ordered stages (e.g. the default export pipeline, a projects pipeline)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("opportunity status", "Open")
    WON = "won", pgettext_lazy("opportunity status", "Won")
    LOST = "lost", pgettext_lazy("opportunity status", "Lost")


class Stage(models.Model):
    """A column of a pipeline. `probability` (0–100) weighs the forecast; `stale_days` flags an
    opportunity that has sat in the stage longer than that. `key` marks the seeded stages, whose
    names are shown translated while an admin has not renamed them."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    key = models.CharField(max_length=32, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    stale_days = models.PositiveIntegerField(_("stale after (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
        ]

    def __str__(self) -> str:
        return self.name


class LossReason(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    key = models.CharField(max_length=32, blank=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class OpportunityStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("opportunity status", "Open")
    WON = "won", pgettext_lazy("opportunity status", "Won")
    LOST = "lost", pgettext_lazy("opportunity status", "Lost")


class Opportunity(TimeStamped):
    """A deal in a pipeline. `status` mirrors the stage's kind (kept by the services) so that the
    board and the forecast read open deals from an index. `stage_entered_at` dates the current
    stage (time in stage, stale alert); `position` orders the cards within a column."""

    name = models.CharField(_("name"), max_length=255)
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="opportunities",
                                verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="opportunities", verbose_name=_("contact"))
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="opportunities",
                                 verbose_name=_("pipeline"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage"))
    status = models.CharField(_("status"), max_length=4, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.OPEN)
    amount = models.DecimalField(_("expected value"), max_digits=16, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), null=True, blank=True,
                                                   help_text=_("Empty: the stage's probability."))
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="opportunities", verbose_name=_("owner"))
    loss_reason = models.ForeignKey(LossReason, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="opportunities", verbose_name=_("loss reason"))
    loss_note = models.TextField(_("why it was lost"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    # Set by the reminder scan when it has warned the owner that the deal is stale in its current
    # stage; cleared by every stage change, so each stay in a stage is warned about once.
    stale_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    position = models.FloatField(default=0)
    description = models.TextField(_("description"), blank=True)
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["pipeline", "stage", "status", "position", "id"], name="opp_board_idx"),
            models.Index(fields=["company", "status"], name="opp_company_idx"),
            models.Index(fields=["owner", "status", "expected_close_date"], name="opp_owner_idx"),
            models.Index(fields=["status", "expected_close_date"], name="opp_close_idx"),
            models.Index(fields=["updated_at", "id"], name="opp_updated_idx"),
            # the board's won and lost columns show the deals closed in the last days
            models.Index(fields=["pipeline", "stage", "closed_at"], name="opp_closed_idx"),
            # the stale-deal scan reads only open deals it has not warned about yet
            models.Index(fields=["stage_entered_at"], name="opp_stale_idx",
                         condition=Q(status="open", stale_notified_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opp_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__isnull=True) | Q(probability__lte=100),
                                   name="opp_probability_percent"),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityStageChange(models.Model):
    """One move between stages; `seconds_in_from` is how long the deal sat in `from_stage`."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    seconds_in_from = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="opp_stage_change_idx"),
            # average time per stage of a pipeline, from the index alone
            models.Index(fields=["from_stage", "seconds_in_from"], name="opp_stage_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Courier(models.TextChoices):
    DHL = "dhl", "DHL"
    FEDEX = "fedex", "FedEx"
    UPS = "ups", "UPS"
    TNT = "tnt", "TNT"
    SF = "sf", _("SF Express")
    EMS = "ems", _("EMS (China Post)")
    ARAMEX = "aramex", "Aramex"
    OTHER = "other", _("Other")


class SamplePaidBy(models.TextChoices):
    US = "us", _("We pay")
    CUSTOMER = "customer", _("Customer pays")
    FREIGHT_COLLECT = "collect", _("Freight collect (customer's courier account)")
    SHARED = "shared", _("Shared")


class SampleStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PREPARING = "preparing", _("Preparing")
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received by the customer")
    FEEDBACK = "feedback", _("Feedback received")
    CANCELLED = "cancelled", _("Cancelled")


class Sample(TimeStamped):
    """Samples sent to a customer: items, courier and tracking, cost and who pays, dates and the
    customer's feedback. Sending it logs a 'sample sent' entry on the timeline (`interaction`)."""

    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="samples",
                                verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="samples", verbose_name=_("contact"))
    opportunity = models.ForeignKey(Opportunity, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="samples", verbose_name=_("opportunity"))
    status = models.CharField(_("status"), max_length=10, choices=SampleStatus.choices,
                              default=SampleStatus.REQUESTED)
    requested_on = models.DateField(_("requested on"))
    ship_to = models.TextField(_("ship to"), blank=True)
    courier = models.CharField(_("courier"), max_length=8, choices=Courier.choices, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    cost_currency = models.CharField(_("cost currency"), max_length=3, blank=True)
    paid_by = models.CharField(_("paid by"), max_length=8, choices=SamplePaidBy.choices, blank=True)
    courier_account = models.CharField(_("customer's courier account"), max_length=64, blank=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    feedback = models.TextField(_("customer feedback"), blank=True)
    feedback_rating = models.PositiveSmallIntegerField(_("feedback rating (1–5)"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="samples", verbose_name=_("owner"))
    interaction = models.ForeignKey("interactions.Interaction", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        indexes = [
            models.Index(fields=["company", "requested_on"], name="sample_company_idx"),
            models.Index(fields=["status", "requested_on"], name="sample_status_idx"),
            models.Index(fields=["requested_on", "id"], name="sample_requested_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(cost__isnull=True) | Q(cost__gte=0), name="sample_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(feedback_rating__isnull=True) | Q(feedback_rating__gte=1, feedback_rating__lte=5),
                name="sample_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Sample')} #{self.pk}"


class SampleItem(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("product"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), **QTY, default=Decimal("1"))
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PCS)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sample_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product_id)
