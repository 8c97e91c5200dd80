"""Automation: assignment rules for new customers and inquiries, workflow rules ("when EVENT and
CONDITIONS then ACTIONS") stored as data and versioned, their run log, and approvals.

A rule's definition (event, conditions, actions, schedule) is validated as a whole when saved
(`validation.clean_rule`); every save bumps `version` and stores a `RuleVersion`, and each run
records the version it used, so the log shows what the rule was when it fired.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped

from .events import EVENT_CHOICES


class Entity(models.TextChoices):
    COMPANY = "company", _("Customer")
    INQUIRY = "inquiry", _("Inquiry")


class AssignTo(models.TextChoices):
    USER = "user", _("A user")
    ROUND_ROBIN = "round_robin", _("A team, in turn (round robin)")
    LEAST_LOADED = "least_loaded", _("A team, the rep holding the fewest customers")
    POOL = "pool", _("The public pool")


class AssignmentRule(TimeStamped):
    """Who gets a new customer (or inquiry). Rules are tried by `position`; the first whose
    conditions hold assigns. `max_holdings` skips reps who already hold that many customers."""

    name = models.CharField(_("name"), max_length=120)
    entity = models.CharField(_("applies to"), max_length=16, choices=Entity.choices, default=Entity.COMPANY)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    assign_to = models.CharField(_("assign to"), max_length=16, choices=AssignTo.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("team"),
    )
    pool = models.ForeignKey(
        "pool.Pool", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("pool")
    )
    max_holdings = models.PositiveIntegerField(_("maximum customers per rep"), null=True, blank=True)
    last_user_id = models.IntegerField(null=True, blank=True, editable=False)  # round robin's last pick
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["entity", "position", "id"]

    def __str__(self) -> str:
        return self.name


class Rule(TimeStamped):
    """A workflow rule. `conditions` is the JSON condition language (see conditions.py), `actions`
    a list of {"type": …, …} (see actions.py), `schedule` a cron expression for scheduled rules,
    `params` event parameters (e.g. {"hours": 24} for "inquiry unanswered")."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    event = models.CharField(_("when"), max_length=32, choices=EVENT_CHOICES)
    entity = models.CharField(_("record"), max_length=24, default="company")
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    params = models.JSONField(_("event parameters"), default=dict, blank=True)
    schedule = models.CharField(_("schedule (cron)"), max_length=64, blank=True)
    active = models.BooleanField(_("on"), default=True)
    max_runs_per_hour = models.PositiveIntegerField(_("at most runs per hour"), default=100)
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)  # scheduled rules
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["event", "active"], name="autorule_event_idx")]

    def __str__(self) -> str:
        return self.name

    def definition(self) -> dict:
        return {"name": self.name, "event": self.event, "entity": self.entity, "conditions": self.conditions,
                "actions": self.actions, "params": self.params, "schedule": self.schedule,
                "active": self.active, "max_runs_per_hour": self.max_runs_per_hour}  # fmt: skip


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="autorule_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class RunStatus(models.TextChoices):
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    RETRYING = "retrying", _("Retrying")
    NO_MATCH = "no_match", _("Conditions not met")
    RATE_LIMITED = "rate_limited", _("Rate limit reached")
    LOOP = "loop", _("Stopped: loop")
    DRY_RUN = "dry_run", _("Dry run")


class RuleRun(models.Model):
    """One execution of a rule: the input (event, record, changes), the version used, and each
    action's result. Scheduled runs carry a `run_key` (rule + period) that makes them idempotent;
    timer events (follow-up overdue…) one per rule + record + occurrence."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    version = models.PositiveIntegerField()
    event = models.CharField(max_length=32)
    obj_type = models.CharField(max_length=24, blank=True)
    obj_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    inputs = models.JSONField(default=dict, blank=True)
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    affected = models.PositiveIntegerField(default=0)
    run_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["rule", "started_at"], name="autorun_rule_idx"),
            models.Index(fields=["obj_type", "obj_id"], name="autorun_obj_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of rule {self.rule_id}"


class ApprovalKind(models.TextChoices):
    QUOTATION_DISCOUNT = "quotation_discount", _("Quotation discount")
    QUOTATION_MARGIN = "quotation_margin", _("Quotation margin below floor")
    CREDIT_TERMS = "credit_terms", _("Credit terms (O/A, D/A)")
    POOL_CLAIM = "pool_claim", _("Pool claim above quota")
    RULE = "rule", _("Requested by an automation rule")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Withdrawn")


class Approval(models.Model):
    """A request for a manager's decision on a record (`obj_type`, `obj_id`). The decision, who
    took it and the reason stay on the request and in the record's audit trail."""

    kind = models.CharField(_("kind"), max_length=24, choices=ApprovalKind.choices)
    obj_type = models.CharField(max_length=24)
    obj_id = models.BigIntegerField()
    company = models.ForeignKey(
        "customers.Company",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    title = models.CharField(_("what is asked"), max_length=255)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approver"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    run = models.ForeignKey(RuleRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="approval_status_idx"),
            models.Index(fields=["obj_type", "obj_id"], name="approval_obj_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "obj_type", "obj_id"],
                condition=models.Q(status="pending"),
                name="approval_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.title
