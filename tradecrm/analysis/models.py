"""Customer analysis: k-means clusters on the RFM features and association rules over order lines
(products bought together by the same customer), each computed by a background task into its own
tables. RFM segments, lifecycle stages and churn risk are columns of `grading.CompanyGrade`; this
app only reads them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ClusterRun(models.Model):
    """One k-means run over every customer that has ordered. `clusters` holds per cluster:
    {cluster, size, centroid: {recency_days, orders, amount}, label} where `label` is a code the
    page turns into words (so it reads in the viewer's language); `phases` the seconds per phase."""

    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    k = models.PositiveSmallIntegerField(_("number of clusters"), default=4)
    method = models.CharField(max_length=16, default="minibatch")
    trigger = models.CharField(max_length=16, default="manual")  # manual / api / schedule / cli
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customers = models.PositiveIntegerField(default=0)
    inertia = models.FloatField(null=True, blank=True)
    clusters = models.JSONField(default=list, blank=True)
    phases = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"k-means #{self.pk} (k={self.k}, {self.status})"


class CompanyCluster(models.Model):
    """The cluster of one customer in the latest finished run (the table is replaced by each run).
    No database-level foreign key: a run rewrites a million rows at once and the check would cost
    more than the clustering; deleting a customer still removes its row (Django cascades)."""

    company = models.OneToOneField(
        "customers.Company", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    cluster = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["cluster"], name="companycluster_cluster_idx")]

    def __str__(self) -> str:
        return f"{self.company_id} → {self.cluster}"


class RuleRun(models.Model):
    """One computation of the association rules; `params` the minimum support/confidence used."""

    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=16, default="manual")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    phases = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"rules #{self.pk} ({self.status})"


class AssociationRule(models.Model):
    """“Customers who buy `antecedent` also buy `consequent`”: `support` is the share of all
    buying customers who bought both, `confidence` the share of the antecedent's buyers who bought
    the consequent too, `lift` the confidence against the consequent's share of all buyers."""

    antecedent = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    consequent = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    pair_count = models.PositiveIntegerField()
    antecedent_count = models.PositiveIntegerField()
    support = models.FloatField()
    confidence = models.FloatField()
    lift = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["antecedent", "confidence"], name="rule_antecedent_idx")]

    def __str__(self) -> str:
        return f"{self.antecedent_id} → {self.consequent_id} ({self.confidence:.0%})"


class ProductStat(models.Model):
    """Per product, from the same computation: how many customers bought it and its average unit
    price in the base currency (for up-sell suggestions within a category)."""

    product = models.OneToOneField(
        "catalog.Product", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    buyers = models.PositiveIntegerField(default=0)
    avg_unit_price_base = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.product_id}: {self.buyers} buyers"
