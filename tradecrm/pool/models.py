"""The public pool (公海): customers nobody owns, waiting to be claimed.

A customer is in a pool when it has a `PoolEntry` (and then `Company.owner` is empty). Pools are
configured by admins: which customers they take (countries and/or teams), who may claim from them,
and the recall rules (`rules`, validated by `rules.clean_rules`, versioned by `rules_version`).
Every move in or out is a `PoolMove`; every scheduled recall is a `RecallRun` that stores the rule
versions it applied, so a rule change shows from the next run on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class Pool(TimeStamped):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Which owned customers fall under this pool's recall rules, and who may claim from it.
    # Empty lists mean "any". The most specific matching pool wins (see rules.pool_for).
    countries = models.JSONField(
        _("countries"),
        default=list,
        blank=True,
        help_text=_("ISO country codes, e.g. DE, FR. Empty: every country."),
    )
    teams = models.ManyToManyField(
        "accounts.Team",
        blank=True,
        related_name="+",
        verbose_name=_("teams served"),
        help_text=_("Empty: every team."),
    )
    active = models.BooleanField(_("active"), default=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    rules_version = models.PositiveIntegerField(default=1, editable=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class MoveKind(models.TextChoices):
    RECALL = "recall", _("Recalled")
    RELEASE = "release", _("Released")
    CLAIM = "claim", _("Claimed")
    ASSIGN = "assign", _("Assigned")


class PoolEntry(models.Model):
    """The customer is in `pool` since `since`; `previous_owner` gave it up (or lost it)."""

    company = models.OneToOneField("customers.Company", on_delete=models.CASCADE, related_name="pool_entry")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="entries")
    since = models.DateTimeField(_("in the pool since"))
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("previous owner"),
    )
    kind = models.CharField(max_length=8, choices=MoveKind.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True)  # copied: the pool page filters on it

    class Meta:
        verbose_name = _("pool entry")
        verbose_name_plural = _("pool entries")
        indexes = [
            models.Index(fields=["pool", "since", "id"], name="poolentry_pool_idx"),
            models.Index(fields=["pool", "country", "since"], name="poolentry_country_idx"),
            models.Index(fields=["previous_owner", "since"], name="poolentry_prev_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} in {self.pool_id}"


class CompanyLock(models.Model):
    """A locked customer is never recalled (a key account a manager keeps out of the pool)."""

    company = models.OneToOneField(
        "customers.Company", primary_key=True, on_delete=models.CASCADE, related_name="pool_lock"
    )
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_at = models.DateTimeField()
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    def __str__(self) -> str:
        return f"lock {self.company_id}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RecallRun(models.Model):
    """One run of the recall job. `rules` holds {pool id: {"version", "rules"}} as applied."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=16, default="schedule")  # schedule / cli / api / ui
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rules = models.JSONField(default=dict, blank=True)
    due = models.PositiveIntegerField(default=0)
    recalled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    phases = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"recall run {self.pk}"


class PoolMove(models.Model):
    """One move of a customer into or out of a pool, with its reason in words (`reason`) and the
    facts behind it (`params`, e.g. {"rule": "no_touch", "days": 61})."""

    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="pool_moves")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(max_length=8, choices=MoveKind.choices)
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(RecallRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="moves")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["company", "at"], name="poolmove_company_idx"),
            # claims per rep per day; the previous owner's cooldown
            models.Index(fields=["to_owner", "kind", "at"], name="poolmove_to_idx"),
            models.Index(fields=["from_owner", "kind", "at"], name="poolmove_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.company_id}"


class OwnerSince(models.Model):
    """When the current owner got the customer from a pool (claim or assignment): the start of the
    protection period and of the recall clocks. Missing: the customer's creation date counts."""

    company = models.OneToOneField(
        "customers.Company", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.company_id} since {self.since}"
