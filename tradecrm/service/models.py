"""After-sales service: feedback / complaint / claim tickets with SLA clocks, and satisfaction
surveys sent after delivery.

A `Ticket` belongs to a customer (optionally an order and one of its lines) and moves through a
fixed status workflow (`TRANSITIONS`, enforced by `services.ticket_set_status`). Its due times come
from the `SlaPolicy` row of its severity (hours, editable by administrators) and are recomputed
when the severity changes. Each missed due time is recorded once as a `TicketBreach` (the overdue
scan notifies the owner and their manager for each new one). `TicketEvent` is the ticket's
timeline: comments, status and field changes.

A `Survey` is one question sent for one delivered order to the customer's primary contact; it is
answered on a public page through a signed link (see `links`). `SurveyConfig` says per grading tier
how many days after delivery it is sent and on which scale (1–5 or NPS 0–10). `score_5` keeps every
answer on one 1–5 scale for averages and grading (NPS 0–10 maps linearly: 0 → 1, 10 → 5).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class Category(models.TextChoices):
    FEEDBACK = "feedback", _("Feedback")
    COMPLAINT = "complaint", _("Complaint")
    CLAIM = "claim", _("Claim")


class Kind(models.TextChoices):
    QUALITY = "quality", _("Quality")
    DAMAGE = "damage", _("Shipping damage")
    SHORT = "short", _("Short delivery")
    LATE = "late", _("Late delivery")
    DOCUMENTS = "documents", _("Documents")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_ORDER = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    PROPOSED = "proposed", _("Solution proposed")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The workflow: from each status, where a ticket may go. A proposal the customer rejects goes back
# to investigating; a resolved ticket may be reopened (investigating) until it is closed; closed is
# final (a new problem is a new ticket).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.OPEN: (Status.INVESTIGATING, Status.PROPOSED, Status.RESOLVED, Status.CLOSED),
    Status.INVESTIGATING: (Status.PROPOSED, Status.RESOLVED, Status.CLOSED),
    Status.PROPOSED: (Status.INVESTIGATING, Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.INVESTIGATING, Status.CLOSED),
    Status.CLOSED: (),
}
DONE = (Status.RESOLVED, Status.CLOSED)


class RootCause(models.TextChoices):
    PRODUCTION = "production", _("Production / workmanship")
    MATERIAL = "material", _("Raw material")
    PACKAGING = "packaging", _("Packaging")
    LOGISTICS = "logistics", _("Logistics / carrier")
    SUPPLIER = "supplier", _("Supplier")
    DOCUMENTATION = "documentation", _("Documentation error")
    COMMUNICATION = "communication", _("Communication / specification")
    CUSTOMER = "customer", _("Customer handling")
    OTHER = "other", _("Other")


# Defaults of the SLA per severity: (first response hours, resolution hours).
SLA_DEFAULTS = {
    Severity.CRITICAL: (4, 48),
    Severity.HIGH: (8, 120),
    Severity.MEDIUM: (24, 240),
    Severity.LOW: (48, 480),
}


class SlaPolicy(models.Model):
    """The due times of one severity, in hours after the ticket was opened."""

    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, unique=True)
    first_response_hours = models.PositiveIntegerField(_("first response within (hours)"))
    resolution_hours = models.PositiveIntegerField(_("resolution within (hours)"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(condition=Q(first_response_hours__gt=0), name="sla_response_positive"),
            models.CheckConstraint(condition=Q(resolution_hours__gte=models.F("first_response_hours")),
                                   name="sla_resolution_after_response"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.severity}: {self.first_response_hours}h / {self.resolution_hours}h"


class Ticket(TimeStamped):
    number = models.CharField(_("number"), max_length=20, blank=True)
    company = models.ForeignKey(
        "customers.Company", on_delete=models.CASCADE, related_name="tickets", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order"),
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order line"),
    )
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("product"),
    )
    supplier = models.CharField(_("supplier"), max_length=255, blank=True)
    category = models.CharField(
        _("type"), max_length=10, choices=Category.choices, default=Category.COMPLAINT
    )
    kind = models.CharField(_("problem"), max_length=10, choices=Kind.choices)
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"))
    first_response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    root_cause = models.CharField(_("root cause"), max_length=14, choices=RootCause.choices, blank=True)
    root_cause_note = models.TextField(_("root cause details"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    compensation_amount = models.DecimalField(
        _("compensation"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    compensation_currency = models.CharField(_("compensation currency"), max_length=3, blank=True)
    replacement = models.BooleanField(_("replacement goods"), default=False)
    replacement_note = models.CharField(_("replacement details"), max_length=255, blank=True)
    discount_percent = models.DecimalField(
        _("discount on next order (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["company", "opened_at"], name="ticket_company_idx"),
            models.Index(fields=["status", "resolution_due"], name="ticket_due_idx"),
            models.Index(fields=["owner", "status"], name="ticket_owner_idx"),
            models.Index(fields=["opened_at", "id"], name="ticket_opened_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="ticket_number_unique"),
            models.CheckConstraint(condition=Q(compensation_amount__isnull=True) | Q(compensation_amount__gte=0),
                                   name="ticket_compensation_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__isnull=True)
                                   | Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="ticket_discount_percent"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Opened")
    COMMENT = "comment", _("Comment")
    STATUS = "status", _("Status changed")
    UPDATE = "update", _("Changed")
    BREACH = "breach", _("SLA breached")
    FILE = "file", _("File added")
    FILE_REMOVED = "file_del", _("File removed")


class TicketEvent(models.Model):
    """One entry of a ticket's timeline."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    from_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    text = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticketevent_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class TicketAttachment(models.Model):
    """A file on a ticket: photos of the damage, a packing list, a lab report. Stored under the
    data dir, AES-GCM encrypted like the timeline's files (core/crypto.py); `content_type` is
    sniffed from the bytes. Only photos, videos and documents are accepted (services)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(max_length=255, upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket file")
        verbose_name_plural = _("ticket files")
        indexes = [models.Index(fields=["ticket", "uploaded_at"], name="ticketattachment_ticket_idx")]

    def __str__(self) -> str:
        return self.name


class BreachKind(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class TicketBreach(models.Model):
    """A due time a ticket missed, recorded once (the scan alerts once per breach). A new due time
    (after a change of severity) that is missed again is a new breach."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(max_length=10, choices=BreachKind.choices)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "due_at"], name="ticket_breach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} breach of {self.ticket_id}"


# --- surveys --------------------------------------------------------------------------------------


class Scale(models.TextChoices):
    FIVE = "five", _("1–5 stars")
    NPS = "nps", _("NPS 0–10")


SCALE_RANGE = {Scale.FIVE: (1, 5), Scale.NPS: (0, 10)}


class SurveyConfig(models.Model):
    """When and how surveys go to the customers of a tier. `tier` empty: customers without a
    grade yet, and tiers without their own row."""

    tier = models.CharField(_("tier"), max_length=16, blank=True, unique=True)
    enabled = models.BooleanField(_("send surveys"), default=True)
    days_after_delivery = models.PositiveSmallIntegerField(_("days after delivery"), default=7)
    scale = models.CharField(_("scale"), max_length=4, choices=Scale.choices, default=Scale.FIVE)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("survey setting")
        verbose_name_plural = _("survey settings")
        ordering = ["tier"]
        constraints = [
            models.CheckConstraint(condition=Q(days_after_delivery__gte=0, days_after_delivery__lte=365),
                                   name="survey_days_range"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.tier or "default"


class Survey(models.Model):
    """One survey for one delivered order: sent, then answered (or not) on the public page."""

    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="surveys")
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.CharField(max_length=254)
    language = models.CharField(max_length=10, default="en")
    tier = models.CharField(max_length=16, blank=True)
    scale = models.CharField(max_length=4, choices=Scale.choices)
    token = models.CharField(max_length=32, unique=True)
    delivered_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    score_5 = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(fields=["company", "answered_at"], name="survey_company_idx"),
            models.Index(fields=["answered_at", "id"], name="survey_answered_idx"),
            models.Index(fields=["created_at", "id"], name="survey_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="survey_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} ({self.company_id})"
