"""Email campaigns (EDM): one message to the customers of a saved segment, in each contact's
language, sent in the recipient's local send window and throttled per sending mailbox, with an
A/B subject test, unsubscribe honoured at launch and at send time, and bounces recorded.

A launched campaign has one `CampaignRecipient` per address (skipped ones are kept with the reason);
each queued recipient points at the rendered `mailbox.MailMessage` that will be sent, so clicks,
opens, replies and unsubscribes are recorded by the mailbox's tracking as for any other mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped
from tradecrm.mailbox.models import TemplateLanguage


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class WinnerMetric(models.TextChoices):
    CLICKS = "clicks", _("Unique clicks")
    REPLIES = "replies", _("Replies")


class Campaign(TimeStamped):
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("owner")
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )
    segment = models.ForeignKey(
        "customers.SavedSegment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("segment"),
    )
    mailboxes = models.ManyToManyField(
        "mailbox.Mailbox", related_name="+", verbose_name=_("sending mailboxes")
    )
    fallback_language = models.CharField(
        _("fallback language"), max_length=5, choices=TemplateLanguage.choices, default=TemplateLanguage.EN
    )
    # A/B: the share of recipients (in %) that get subject B; 0 = no test
    split_b = models.PositiveSmallIntegerField(_("share getting subject B (%)"), default=0)
    winner_metric = models.CharField(
        _("winner by"), max_length=8, choices=WinnerMetric.choices, default=WinnerMetric.CLICKS
    )
    window_start = models.PositiveSmallIntegerField(_("send from (recipient's hour)"), default=9)
    window_end = models.PositiveSmallIntegerField(_("send until (recipient's hour)"), default=11)
    skip_weekends = models.BooleanField(_("not on the recipient's weekend"), default=True)
    per_hour = models.PositiveIntegerField(_("at most per hour per mailbox"), default=200)
    per_day = models.PositiveIntegerField(_("at most per day per mailbox"), default=1000)
    tracking = models.BooleanField(_("track clicks and opens"), default=True)
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=30)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    launch_counts = models.JSONField(default=dict, blank=True)  # queued, skipped by reason, seconds
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["owner", "created_at"], name="campaign_owner_idx"),
            models.Index(fields=["status"], name="campaign_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="campaign_window_valid"
            ),
            models.CheckConstraint(condition=Q(split_b__lte=99), name="campaign_split_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ab_test(self) -> bool:
        return self.split_b > 0


class CampaignContent(models.Model):
    """The message in one language: subject A, optional subject B (the A/B test), body. Merge
    fields as in email templates ({{ contact.first_name }}, {{ company.name }}, {{ user.name }})."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contents")
    language = models.CharField(_("language"), max_length=5, choices=TemplateLanguage.choices)
    subject = models.CharField(_("subject (A)"), max_length=255)
    subject_b = models.CharField(_("subject B"), max_length=255, blank=True)
    body = models.TextField(_("body"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "language"], name="campaigncontent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.language}"


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class SkipReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    SUPPRESSED = "suppressed", _("Bounced before (suppressed)")
    NO_EMAIL = "no_email", _("No email address")
    DUPLICATE = "duplicate", _("Duplicate address")


class CampaignRecipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=5, blank=True)
    variant = models.CharField(max_length=1, blank=True)  # "a" / "b"
    tz = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)
    mailbox = models.ForeignKey(
        "mailbox.Mailbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.OneToOneField(
        "mailbox.MailMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_recipient",
    )
    status = models.CharField(max_length=10, choices=RecipientStatus.choices)
    skip_reason = models.CharField(max_length=12, choices=SkipReason.choices, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "email"],
                condition=~Q(status="skipped"),
                name="campaignrecipient_email_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "mailbox", "due_at"], name="campaignrcpt_due_idx"),
            models.Index(fields=["campaign", "status"], name="campaignrcpt_campaign_idx"),
            models.Index(fields=["mailbox", "sent_at"], name="campaignrcpt_sent_idx"),
            models.Index(fields=["email"], name="campaignrcpt_email_idx"),
        ]

    def __str__(self) -> str:
        return self.email or f"recipient {self.pk}"


class Suppression(models.Model):
    """An address that hard-bounced: no campaign mails it again (a rep's own mail still may)."""

    address = models.CharField(max_length=254, unique=True)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.address
