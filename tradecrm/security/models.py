"""Two-factor sign-in: one TOTP device per user, single-use recovery codes, a policy per role.

The lockout counters are django-axes' own tables (axes.AccessAttempt); API tokens live in
accounts.ApiToken (their scopes are interpreted by tradecrm.security.scopes)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.crypto import EncryptedTextField


class TotpDevice(models.Model):
    """An authenticator app (RFC 6238: 30-second steps, 6 digits, SHA-1, as every app expects).

    Unconfirmed until the user has typed one right code, so a scan that went wrong never locks
    anyone out. `last_step` is the last time step accepted: a code is good once, never again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device", verbose_name=_("user")
    )
    secret = EncryptedTextField(_("secret"))  # base32, as the authenticator app shows it
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self) -> str:
        return f"TOTP ({self.user_id})"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-time code for when the phone is lost. Only its SHA-256 is stored: the codes carry
    80 random bits, so the hash cannot be reversed by trying them all."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="security_recovery_code_once")
        ]

    def __str__(self) -> str:
        return f"recovery code ({self.user_id})"

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def normalize_code(code: str) -> str:
    """What the user typed, without spaces, dashes and case ("abcd-efgh" == "ABCDEFGH")."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


class TwoFactorMode(models.TextChoices):
    OFF = "off", _("Off (not offered)")
    OPTIONAL = "optional", _("Optional (each user decides)")
    ENFORCED = "enforced", _("Enforced (required at sign-in)")


class TwoFactorPolicy(models.Model):
    """Per role. No row means optional."""

    role = models.CharField(_("role"), max_length=16, unique=True)
    mode = models.CharField(
        _("two-factor sign-in"), max_length=10, choices=TwoFactorMode.choices, default=TwoFactorMode.OPTIONAL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("two-factor policy")
        verbose_name_plural = _("two-factor policies")

    def __str__(self) -> str:
        return f"{self.role}: {self.mode}"
