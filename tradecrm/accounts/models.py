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
    ASSISTANT = "assistant", _("Sales assistant")
    READ_ONLY = "read_only", _("Read-only")


class Scope(models.TextChoices):
    """Which customers a role sees (besides the ones the user owns or follows)."""

    OWN = "own", _("Own customers")
    TEAM = "team", _("Own team")
    TEAM_SUBTEAMS = "team_subteams", _("Own team and its sub-teams")
    ALL = "all", _("All customers")


class Action(models.TextChoices):
    CREATE = "create", _("Create customers")
    EDIT = "edit", _("Edit customers")
    DELETE = "delete", _("Delete customers")
    EXPORT = "export", _("Export lists")
    REVEAL = "reveal", _("See full phones and emails")
    MERGE = "merge", _("Merge duplicates")
    MANAGE_POOL = "manage_pool", _("Manage the public pool")
    SEE_MARGINS = "see_margins", _("See costs and margins")


# Actions that change data: never granted to the read-only role.
WRITE_ACTIONS = frozenset({Action.CREATE, Action.EDIT, Action.DELETE, Action.MERGE, Action.MANAGE_POOL})

# What each role may do when no policy row says otherwise: today's behaviour for admin, manager and
# sales (the data migration seeds the table with these).
DEFAULT_POLICIES: dict[str, tuple[str, frozenset[str]]] = {
    Role.ADMIN: (Scope.ALL, frozenset(Action.values)),
    Role.MANAGER: (Scope.TEAM_SUBTEAMS, frozenset(Action.values)),
    Role.SALES: (Scope.OWN, frozenset({"create", "edit", "delete", "reveal", "merge"})),
    Role.ASSISTANT: (Scope.OWN, frozenset({"create", "edit"})),
    Role.READ_ONLY: (Scope.TEAM_SUBTEAMS, frozenset()),
}


class RolePolicy(TimeStamped):
    """What a role sees (`scope`) and may do (`actions`). One row per role; administrators edit
    them on the "Roles & permissions" page. The administrator role always sees and may do all."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, unique=True)
    scope = models.CharField(_("visibility"), max_length=16, choices=Scope.choices, default=Scope.OWN)
    actions = models.JSONField(_("allowed actions"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("role policy")
        verbose_name_plural = _("role policies")
        ordering = ["role"]

    def __str__(self) -> str:
        return self.get_role_display()


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
    # An assistant works for these reps: sees and works on their customers as they could.
    acts_for = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="assistants",
                                      verbose_name=_("acts for"))

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

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.READ_ONLY and not self.is_superuser


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
