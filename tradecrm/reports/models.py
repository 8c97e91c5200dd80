"""Reports, dashboards and exports. Exports stream and keep nothing.

The dashboard reads monthly rollups (sums per month and per the two columns the visibility rule
needs: the customer's team and owner) instead of scanning millions of order lines per request.
They are derived data, rebuilt by `rollups.refresh` (a background task every five minutes for the
months that changed, and in full every night); see rollups.py for what is read live instead."""

from django.db import models


class SalesRollup(models.Model):
    """Orders (not cancelled) per month × customer team × customer owner × customer country × the
    order's owner (rep): count and amount in the base currency (ids 0 = none)."""

    month = models.DateField()
    team_id = models.IntegerField(default=0)
    owner_id = models.IntegerField(default=0)
    country = models.CharField(max_length=2, blank=True)
    rep_id = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    unconverted = models.IntegerField(default=0)  # orders in a currency without a rate

    class Meta:
        indexes = [models.Index(fields=["month", "team_id", "owner_id"], name="rollup_sales_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} team {self.team_id} owner {self.owner_id}: {self.amount}"


class ProductRollup(models.Model):
    """Order lines of those orders per month × customer team × customer owner × product (0: none),
    at three grains so a viewer reads a few thousand rows: 0 per team and owner (a sales rep's
    own), 1 per team (`owner_id` 0: a manager's teams), 2 everything (`team_id` 0: an administrator)."""

    grain = models.PositiveSmallIntegerField(default=0)
    month = models.DateField()
    team_id = models.IntegerField(default=0)
    owner_id = models.IntegerField(default=0)
    product_id = models.IntegerField(default=0)
    lines = models.IntegerField(default=0)
    quantity = models.DecimalField(max_digits=20, decimal_places=3, default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["grain", "month", "team_id", "owner_id"], name="rollup_product_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} product {self.product_id}: {self.amount}"


class CustomerRollup(models.Model):
    """Customers created per month (UTC) × team × owner × source."""

    month = models.DateField()
    team_id = models.IntegerField(default=0)
    owner_id = models.IntegerField(default=0)
    source = models.CharField(max_length=16, blank=True)
    customers = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month", "team_id", "owner_id"], name="rollup_customer_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.source}: {self.customers}"


class TierRollup(models.Model):
    """Graded customers per team × owner × tier."""

    team_id = models.IntegerField(default=0)
    owner_id = models.IntegerField(default=0)
    tier = models.CharField(max_length=16, blank=True)
    customers = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tier}: {self.customers}"


class ReceivableRollup(models.Model):
    """Open and partly paid receivables per order month × due date × team × owner: count and what is
    still owed in the base currency (aging buckets are cut from the due date when read)."""

    month = models.DateField()  # the order's month
    due_date = models.DateField()
    team_id = models.IntegerField(default=0)
    owner_id = models.IntegerField(default=0)
    receivables = models.IntegerField(default=0)
    outstanding = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["month", "team_id", "owner_id"], name="rollup_receivable_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} due {self.due_date}: {self.outstanding}"


class RollupState(models.Model):
    """One row: when the rollups were last refreshed and up to which change they hold."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    full_at = models.DateTimeField(null=True, blank=True)
    orders_mark = models.DateTimeField(null=True, blank=True)  # max(orders.updated_at) included
    companies_mark = models.DateTimeField(null=True, blank=True)  # max(company.updated_at) included
    grades_mark = models.CharField(max_length=64, blank=True)  # last grade change / run seen
    seconds = models.FloatField(default=0)
    phases = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"rollups refreshed {self.refreshed_at}"
