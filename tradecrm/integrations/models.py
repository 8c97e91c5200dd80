"""Connections to other systems: outgoing webhooks (endpoints and their delivery log), the
idempotency keys of the incoming ERP API, and the ERP's codes for our customers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped

# What a webhook can subscribe to: "<entity>.<created|updated|deleted>" and one for bulk imports
# (they write with raw SQL, so one event per finished job instead of one per row).
ENTITIES = ("company", "opportunity", "order", "payment")
ACTIONS = ("created", "updated", "deleted")
IMPORT_COMPLETED = "import.completed"
EVENTS = tuple(f"{e}.{a}" for e in ENTITIES for a in ACTIONS) + (IMPORT_COMPLETED,)


class WebhookEndpoint(TimeStamped):
    """A URL that receives signed POSTs for the events it subscribes to. Set up by an administrator;
    switched off by itself after TRADECRM_WEBHOOK_DISABLE_AFTER failed attempts in a row."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCESS = "success", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint, with the outcome of its last attempt."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)  # fmt: skip
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=1000, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx"),
            models.Index(fields=["endpoint", "-id"], name="webhook_endpoint_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class IdempotencyKey(models.Model):
    """The answer given to one (user, operation, Idempotency-Key): replayed when the same request
    comes again, refused when the key comes back with a different body. Kept 30 days."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class ExternalRef(models.Model):
    """Another system's code for one of our customers (the ERP's customer number)."""

    system = models.CharField(_("system"), max_length=32, default="erp")
    code = models.CharField(_("code"), max_length=128)
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="external_refs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("external code")
        verbose_name_plural = _("external codes")
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="external_ref_unique")]

    def __str__(self) -> str:
        return f"{self.system}:{self.code}"
