from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .context import current_ip, current_source


class AuditImmutableError(Exception):
    """A sealed audit event cannot be changed or deleted."""


class SourceChoices(models.TextChoices):
    UI = "ui", _("Web UI")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    TASK = "task", _("Background task")


class AuditEventQuerySet(models.QuerySet):
    def sealed(self):
        return self.filter(seq__isnull=False)

    def unsealed(self):
        return self.filter(seq__isnull=True)

    def update(self, **kwargs):
        if self.sealed().exists():
            raise AuditImmutableError("sealed audit events cannot be changed")
        return super().update(**kwargs)

    def delete(self):
        if self.sealed().exists():
            raise AuditImmutableError("sealed audit events cannot be deleted")
        return super().delete()


class AuditEvent(models.Model):
    """One row per state change a user can name, written in the same transaction as the change.

    Append-only: once sealed (seq and hash set, see chain.py) a row is never changed or deleted —
    refused here, and by a database trigger."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The username at the time: covered by the hash, and kept when the account is deleted.
    actor_name = models.CharField(_("actor"), max_length=150, blank=True, default="", db_default="")
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.BigIntegerField(null=True)
    changes = models.JSONField(default=dict, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=SourceChoices.choices, default=current_source, db_default="cli"
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, default=current_ip)
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None and (self.seq is not None or self._sealed_in_db()):
            raise AuditImmutableError("sealed audit events cannot be changed")
        if not self.actor_name and self.actor_id is not None:
            self.actor_name = getattr(self.actor, "username", "") or ""
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and (self.seq is not None or self._sealed_in_db()):
            raise AuditImmutableError("sealed audit events cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def sealed(self) -> bool:
        return self.seq is not None

    def _sealed_in_db(self) -> bool:
        return type(self)._base_manager.filter(pk=self.pk, seq__isnull=False).exists()
