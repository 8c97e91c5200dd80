"""Duplicate check (查重): match keys per company and contact, candidate pairs found by the sweep,
and merges (with everything needed to undo them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class KeyKind(models.IntegerChoices):
    NAME = 1, _("Company name")
    DOMAIN = 2, _("Email domain")
    WEBSITE = 3, _("Website")
    PHONE = 4, _("Phone")
    TAX_ID = 5, _("Tax / VAT number")
    TOKEN = 6, _("Name word")
    EMAIL = 7, _("Email address")


class CompanyKey(models.Model):
    """One match key of a company, as a signed 64-bit hash of "kind:value" (8 bytes in the index
    instead of the text; a hash collision only adds a candidate, which scoring then rejects)."""

    company = models.ForeignKey(
        "customers.Company", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.PositiveSmallIntegerField(choices=KeyKind.choices)
    key = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "company"], name="companykey_key_idx"),
            models.Index(fields=["company"], name="companykey_company_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.kind} {self.key}"


class ContactKey(models.Model):
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.PositiveSmallIntegerField(choices=KeyKind.choices)
    key = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "contact"], name="contactkey_key_idx"),
            models.Index(fields=["contact"], name="contactkey_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.kind} {self.key}"


class PairStatus(models.TextChoices):
    OPEN = "open", _("To review")
    DISMISSED = "dismissed", _("Not duplicates")
    MERGED = "merged", _("Merged")


class DuplicatePair(TimeStamped):
    """Two records the sweep found alike (a_id < b_id). "Not duplicates" is remembered, so the
    next sweep does not bring the pair back."""

    entity = models.CharField(max_length=10)  # company | contact
    a_id = models.BigIntegerField()
    b_id = models.BigIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True)  # the last sweep that found it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "a_id", "b_id"], name="duplicatepair_unique")
        ]
        indexes = [
            models.Index(fields=["entity", "status", "score"], name="duplicatepair_status_idx"),
            models.Index(fields=["entity", "b_id"], name="duplicatepair_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.a_id}~{self.b_id} {self.score:.2f}"


class MergeRecord(TimeStamped):
    """A merge of two or more companies (or contacts) into one: the values chosen, a snapshot of
    every record before, and the rows moved or removed, so that undo puts everything back."""

    entity = models.CharField(max_length=10)  # company | contact
    kept_id = models.BigIntegerField()
    merged_ids = models.JSONField(default=list)
    chosen = models.JSONField(default=dict)  # {field: id of the record whose value was kept}
    before = models.JSONField(default=dict)  # {"<id>": {field: value, …, "_m2m": {…}}, …}
    moved = models.JSONField(default=dict)  # {"app.model.field": {"<old id>": [row ids]}}
    removed = models.JSONField(default=dict)  # {"app.model": [row values]} rows deleted as collisions
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["entity", "kept_id"], name="mergerecord_kept_idx")]

    def __str__(self) -> str:
        return f"merge {self.pk}: {self.merged_ids} into {self.kept_id}"


class DuplicateGroup(models.Model):
    """Records connected by open pairs, as the last sweep (or a later decision) left them: the
    review page pages through these instead of connecting millions of pairs on every view."""

    entity = models.CharField(max_length=10)  # company | contact
    ids = models.JSONField(default=list)  # sorted record ids
    size = models.PositiveIntegerField()
    score = models.FloatField()  # the best pair's
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["entity", "score", "id"], name="duplicategroup_score_idx")]

    def __str__(self) -> str:
        return f"{self.entity} group {self.ids} {self.score:.2f}"


class DuplicateGroupMember(models.Model):
    """Which group a record is in: finds the groups of the records a user can see."""

    group = models.ForeignKey(
        DuplicateGroup, on_delete=models.CASCADE, related_name="members", db_index=False
    )
    entity = models.CharField(max_length=10)
    record_id = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["entity", "record_id"], name="groupmember_record_idx"),
            models.Index(fields=["group"], name="groupmember_group_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} in {self.group_id}"
