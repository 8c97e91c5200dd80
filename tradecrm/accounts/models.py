from __future__ import annotations

import datetime
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class Team(TimeStamped):
    """A sales team or a department; teams nest. `path` holds the ids from the root ("/1/4/")
    so that "my team and its sub-teams" is one indexed prefix match."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent team"))
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        if path != self.path:
            self.path = path
            Team.objects.filter(pk=self.pk).update(path=path)

    def subtree_ids(self) -> list[int]:
        return list(Team.objects.filter(path__startswith=self.path).values_list("id", flat=True))


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members",
                             verbose_name=_("team"))
    language = models.CharField(_("language"), max_length=10, default="en",
                                choices=[("en", "English"), ("zh-hans", "简体中文")])
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    work_start = models.TimeField(_("my working day starts"), default=datetime.time(9, 0))
    work_end = models.TimeField(_("my working day ends"), default=datetime.time(22, 0))
    daily_digest = models.BooleanField(_("daily digest email"), default=False,
                                       help_text=_("A morning email with your overdue and due follow-ups."))
    can_export = models.BooleanField(_("may export lists"), default=False,
                                     help_text=_("Managers and administrators may always export."))

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """API token; only its SHA-256 is stored. The raw token is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # ["customers:read", "orders:write", …]; empty means the token's full rights (tokens issued
    # before scopes existed). The security app decides what each scope allows.
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        raw = "tcrm_" + secrets.token_urlsafe(32)
        tok = cls.objects.create(user=user, name=name, prefix=raw[:12], key_hash=_hash_token(raw))
        return tok, raw
