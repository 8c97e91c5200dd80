"""Customer grading (客户分级): tiers with their service strategy, the grade each customer holds
(score, per-dimension values, RFM segment, lifecycle stage, churn risk), the history of tier
changes, and the record of every grading run.

One row per graded customer in `CompanyGrade`; a run computes every row from the order, payment,
interaction, inquiry and customs tables and writes them in one transaction, so a failed run
leaves the previous grades in place."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.core.models import TimeStamped


class Tier(TimeStamped):
    """A grade tier (A key / B important / C ordinary / D potential by default), renameable.
    `rank` 1 is the best tier; a customer gets the best tier whose `min_score` its score reaches.
    The service strategy travels with the tier: follow-up cadence, dedicated account manager,
    checklist."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    min_score = models.FloatField(_("minimum score"))
    color = models.CharField(_("colour"), max_length=7, default="#206bc4")
    followup_days = models.PositiveIntegerField(_("follow up every (days)"), null=True, blank=True)
    requires_account_manager = models.BooleanField(_("dedicated account manager required"), default=False)
    checklist = models.JSONField(_("service checklist"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class GradingRun(models.Model):
    """One recalculation. `phases` holds the seconds spent per phase; `counts` what it found."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=16, default="schedule")  # schedule / manual / cli / api
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    config = models.JSONField(default=dict, blank=True)  # the configuration the run used
    phases = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"grading run {self.pk} ({self.status})"


class Lifecycle(models.TextChoices):
    ACQUISITION = "acquisition", _("Acquisition")
    NURTURE = "nurture", _("Nurture")
    ACTIVE = "active", pgettext_lazy("lifecycle stage", "Active")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")
    WIN_BACK = "win_back", _("Win-back")


class RfmSegment(models.TextChoices):
    IMPORTANT_VALUE = "important_value", _("Important value")
    IMPORTANT_DEVELOP = "important_develop", _("Important to develop")
    IMPORTANT_KEEP = "important_keep", _("Important to keep")
    IMPORTANT_WIN_BACK = "important_win_back", _("Important to win back")
    GENERAL_VALUE = "general_value", _("General value")
    GENERAL_DEVELOP = "general_develop", _("General to develop")
    GENERAL_KEEP = "general_keep", _("General to keep")
    GENERAL_WIN_BACK = "general_win_back", _("General to win back")


class CompanyGrade(models.Model):
    """The current grade of one customer. `tier` is the effective tier (the override while it
    holds, else the computed one capped by veto rules)."""

    company = models.OneToOneField(
        "customers.Company", primary_key=True, on_delete=models.CASCADE, related_name="grade"
    )
    tier = models.CharField(_("tier"), max_length=16, blank=True, db_index=True)
    computed_tier = models.CharField(max_length=16, blank=True)
    score = models.FloatField(_("score"), default=0)
    capped_by = models.CharField(_("capped by"), max_length=64, blank=True)  # veto rule that capped it
    override_tier = models.CharField(_("manual tier"), max_length=16, blank=True)
    override_reason = models.CharField(_("reason"), max_length=255, blank=True)
    override_until = models.DateField(_("until"), null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # raw dimension values (the breakdown is these against the run's configuration)
    orders_count = models.PositiveIntegerField(default=0)  # orders in the frequency window
    orders_total = models.PositiveIntegerField(default=0)  # all confirmed orders
    amount_base = models.DecimalField(max_digits=18, decimal_places=2, default=0)  # in the window, base ccy
    recency_days = models.IntegerField(null=True, blank=True)  # days since the last order
    repeat_rate = models.FloatField(null=True, blank=True)
    on_time_rate = models.FloatField(null=True, blank=True)  # share of receivables paid by due date
    overdue_amount_base = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    overdue_days = models.IntegerField(null=True, blank=True)  # days the oldest unpaid receivable is late
    amount_total_base = models.DecimalField(
        max_digits=18, decimal_places=2, default=0
    )  # all orders, base ccy
    satisfaction = models.FloatField(null=True, blank=True)
    engagement = models.FloatField(default=0)
    potential = models.FloatField(default=0)
    points = models.JSONField(default=dict, blank=True)  # {dimension: points} of the last run
    first_order_on = models.DateField(null=True, blank=True)
    last_order_on = models.DateField(null=True, blank=True)
    typical_interval_days = models.FloatField(null=True, blank=True)
    rfm_segment = models.CharField(
        _("RFM segment"), max_length=24, blank=True, choices=RfmSegment.choices, db_index=True
    )
    lifecycle = models.CharField(
        _("lifecycle stage"), max_length=12, blank=True, choices=Lifecycle.choices, db_index=True
    )
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)  # 0..1
    computed_at = models.DateTimeField(null=True, blank=True)
    # hash of everything the run computed for this row: the next run rewrites only rows whose hash moved
    fingerprint = models.BigIntegerField(default=0)
    # the run that last changed the row; not indexed: every run rewrites it in each changed row, and
    # an index entry moved per row cost the nightly write (nothing looks grades up by run)
    run = models.ForeignKey(
        GradingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("customer grade")
        verbose_name_plural = _("customer grades")

    def __str__(self) -> str:
        return f"{self.company_id}: {self.tier} ({self.score})"


class GradeChange(models.Model):
    """A change of tier, kept for history and reports (tier movement)."""

    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="grade_changes")
    from_tier = models.CharField(max_length=16, blank=True)
    to_tier = models.CharField(max_length=16, blank=True)
    from_score = models.FloatField(null=True, blank=True)
    to_score = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=16, default="run")  # run / override / override_end
    note = models.CharField(max_length=255, blank=True)
    run = models.ForeignKey(GradingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["company", "changed_at"], name="gradechange_company_idx"),
            models.Index(fields=["changed_at"], name="gradechange_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}: {self.from_tier} → {self.to_tier}"


class GradingConfig(models.Model):
    """The single row holding the scoring configuration (dimensions with weight and thresholds,
    the window, lifecycle ratios), validated by `grading.config.validate_config` before it is
    saved. `version` guards concurrent edits and is copied into every run's `config`."""

    data = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("grading configuration")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="grading_config_single_row")]

    def __str__(self) -> str:
        return f"grading configuration v{self.version}"


class VetoKind(models.TextChoices):
    COUNTRY = "country", _("Country on the high-risk list")
    OVERDUE_AMOUNT = "overdue_amount", _("Overdue payments above an amount (base currency)")
    OVERDUE_DAYS = "overdue_days", _("A payment overdue for more than N days")
    CREDIT_RATING = "credit_rating", _("Credit rating")


class VetoRule(TimeStamped):
    """A rule that caps the tier a customer can reach, whatever its score: `cap_tier` is the best
    tier such a customer may hold. `countries` / `ratings` are lists of codes; `threshold` the
    amount or the number of days."""

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=VetoKind.choices)
    countries = models.JSONField(_("countries"), default=list, blank=True)
    ratings = models.JSONField(_("credit ratings"), default=list, blank=True)
    threshold = models.DecimalField(_("threshold"), max_digits=18, decimal_places=2, null=True, blank=True)
    cap_tier = models.CharField(_("cap at tier"), max_length=16)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("veto rule")
        verbose_name_plural = _("veto rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
