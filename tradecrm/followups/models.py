"""Follow-ups (跟进), the cadence rules that create them, and in-app notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    EVERY_N_DAYS = "days", _("Every N days")


class FollowUpKind(models.TextChoices):
    """Why a follow-up exists. Everything but `manual` is created by the reminder scan, at most one
    open per (company, kind) (a partial unique constraint keeps the scan idempotent)."""

    MANUAL = "manual", _("Planned by hand")
    CADENCE = "cadence", _("Cadence rule")
    REVIEW = "review", _("Profile review")
    UNANSWERED = "unanswered", _("Unanswered inquiry")
    QUOTATION_EXPIRY = "quotation_expiry", _("Quotation about to expire")
    PURCHASE_CYCLE = "purchase_cycle", _("Expected reorder")


class FollowUp(TimeStamped):
    # no index of its own on company or assignee: the composite indexes below start with them
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="followups",
                                verbose_name=_("company"), db_index=False)
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="followups", verbose_name=_("contact"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups",
                                 verbose_name=_("assignee"), db_index=False)
    title = models.CharField(_("what to do"), max_length=255)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    kind = models.CharField(_("origin"), max_length=20, choices=FollowUpKind.choices, default=FollowUpKind.MANUAL)
    rule = models.ForeignKey("followups.CadenceRule", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="followups")
    recurrence = models.CharField(_("repeats"), max_length=8, choices=Recurrence.choices, blank=True)
    recurrence_interval = models.PositiveSmallIntegerField(_("every N days"), null=True, blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    outcome = models.ForeignKey("interactions.Interaction", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="followups", verbose_name=_("logged interaction"))
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at", "id"], name="followup_assignee_idx"),
            models.Index(fields=["company", "status", "due_at"], name="followup_company_idx"),
            models.Index(fields=["status", "due_at", "id"], name="followup_due_idx"),
            # The reminder scan's "due and not yet reminded" step reads only these rows; without it
            # it walked every overdue open follow-up on each run (millions at scale).
            models.Index(fields=["due_at"], name="followup_unreminded_idx",
                         condition=Q(status="open", reminded_at__isnull=True)),
            # The scan's per-customer checks ("an open review?", "when was the last cadence one
            # closed?") answered from the index alone, without reading each follow-up row.
            models.Index(fields=["company", "kind", "status", "completed_at"], name="followup_company_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["company", "kind"], name="followup_one_open_auto",
                                    condition=Q(status="open") & ~Q(kind="manual")),
            models.CheckConstraint(condition=Q(recurrence="days", recurrence_interval__gte=1) | ~Q(recurrence="days"),
                                   name="followup_interval_required"),
        ]

    def __str__(self) -> str:
        return self.title


class RuleKind(models.TextChoices):
    CADENCE = "cadence", _("Follow up every N days (by status or tier)")
    UNANSWERED = "unanswered", _("Alert when an inquiry is unanswered for N hours")
    QUOTATION_EXPIRY = "quotation_expiry", _("Remind N days before a quotation expires")
    PURCHASE_CYCLE = "purchase_cycle", _("Remind N days before the expected reorder")
    PROFILE_REVIEW = "profile_review", _("Review the profile every N days")


class CadenceRule(TimeStamped):
    """A reminder rule, edited by an admin. A cadence rule matches customers by lifecycle status
    (and, once grading exists, tier); empty means any. `days`/`hours` is the rule's period."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    status = models.CharField(_("lifecycle status"), max_length=16, blank=True)
    tier = models.CharField(_("tier"), max_length=16, blank=True)
    days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    hours = models.PositiveIntegerField(_("hours"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["kind", "status", "tier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "status", "tier"], name="cadence_rule_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An in-app notification. The text is rendered in the reader's language from `kind` and
    `params` at display time. `key` (when set) makes producers idempotent per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=255, blank=True)
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    followup = models.ForeignKey(FollowUp, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_user_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_key_unique", condition=~Q(key="")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
