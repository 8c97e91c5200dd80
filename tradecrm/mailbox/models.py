"""Email in the CRM: a user's mailboxes (IMAP + SMTP), the synced and sent messages that belong to
customers, threads, attachments, templates per language, tracking events and unknown senders.

Only messages matched to a customer the mailbox's owner can see are stored; everything else in the
mailbox stays private (an unknown sender is remembered as an address, a name and a count, never
with its content)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.crypto import EncryptedTextField
from tradecrm.core.models import TimeStamped


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS")
    NONE = "none", _("None (local server only)")


class MailboxStatus(models.TextChoices):
    NEW = "new", _("Not synced yet")
    OK = "ok", _("OK")
    AUTH_FAILED = "auth_failed", _("Sign-in failed: paused")
    ERROR = "error", _("Error")


class Mailbox(TimeStamped):
    """One mailbox of a user. The password is encrypted at rest. A failed sign-in pauses the
    sync (status auth_failed) until the user saves new credentials: no retry storm against the
    mail server; other errors are retried on the next scheduled run."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes",
                             verbose_name=_("user"))
    email = models.CharField(_("email address"), max_length=254)
    display_name = models.CharField(_("sender name"), max_length=120, blank=True)
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("IMAP over SSL/TLS"), default=True)
    smtp_host = models.CharField(_("SMTP server"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(_("SMTP security"), max_length=10, choices=SmtpSecurity.choices,
                                     default=SmtpSecurity.STARTTLS)
    username = models.CharField(_("user name"), max_length=254)
    password = EncryptedTextField(_("password"), blank=True)
    sync_enabled = models.BooleanField(_("sync this mailbox"), default=True)
    status = models.CharField(_("status"), max_length=12, choices=MailboxStatus.choices, default=MailboxStatus.NEW)
    status_message = models.TextField(_("status message"), blank=True)
    status_at = models.DateTimeField(_("status since"), null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["user", "id"], name="mailbox_user_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def paused(self) -> bool:
        return self.status == MailboxStatus.AUTH_FAILED or not self.sync_enabled


class FolderRole(models.TextChoices):
    INBOX = "inbox", _("Inbox")
    SENT = "sent", _("Sent")


class MailFolder(models.Model):
    """A synced folder and how far it was read: UIDs above `last_uid` are new while the server
    keeps the same UIDVALIDITY (a new UIDVALIDITY means the UIDs were renumbered: read again,
    Message-IDs keep it from importing twice)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=255)
    role = models.CharField(max_length=8, choices=FolderRole.choices)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "role"], name="mailfolder_role_unique")]

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.name}"


class MailThread(TimeStamped):
    """Messages that answer each other (Message-ID / In-Reply-To / References). A private thread
    is seen only by its owner and is not on the customer's timeline."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="mail_threads")
    subject = models.CharField(max_length=255, blank=True)
    private = models.BooleanField(_("private"), default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["company", "last_message_at", "id"], name="mailthread_company_idx")]

    def __str__(self) -> str:
        return self.subject or f"thread {self.pk}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    SYNCED = "synced", _("Synced from Sent")
    QUEUED = "queued", _("Queued")
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class MailMessage(models.Model):
    """A message of a customer: synced (inbound or from the Sent folder) or sent from the CRM.
    `body_html` is sanitized with nh3 when stored; `body_text` is the plain part (or the text of
    the HTML). `message_id` is the RFC 5322 Message-ID (a hash of the headers when it has none)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(MailThread, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="mail_messages")
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="mail_messages")
    interaction = models.OneToOneField("interactions.Interaction", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="mail_message")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    folder_role = models.CharField(max_length=8, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(max_length=255)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_addr = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=255, blank=True)
    to_addrs = models.JSONField(default=list)
    cc_addrs = models.JSONField(default=list)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)  # what could not be read (charset, MIME, files)
    # sending
    template = models.ForeignKey("MailTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    document_kind = models.CharField(max_length=12, blank=True)  # quotation | proforma
    document_id = models.BigIntegerField(null=True, blank=True)
    document_language = models.CharField(max_length=10, blank=True)
    list_unsubscribe = models.BooleanField(default=False)
    # tracking: clicks and replies are reliable; an open (pixel) is not (clients pre-fetch images)
    tracking = models.BooleanField(_("track clicks and opens"), default=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "message_id"], name="mailmessage_msgid_unique"),
        ]
        indexes = [
            models.Index(fields=["company", "sent_at", "id"], name="mailmessage_company_idx"),
            models.Index(fields=["message_id"], name="mailmessage_msgid_idx"),
            models.Index(fields=["status", "scheduled_for"], name="mailmessage_due_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id


class MailAttachment(models.Model):
    """A file of a stored message, kept under the data dir (encrypted at rest)."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(max_length=255, upload_to="mail/%Y/%m/")
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name


class UnknownSender(TimeStamped):
    """An address that wrote to a user's mailbox and matches no customer they see: offered as
    "create customer from this sender". Only the address, name, count and last subject are kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    name = models.CharField(max_length=255, blank=True)
    last_subject = models.CharField(max_length=255, blank=True)
    count = models.PositiveIntegerField(default=1)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    dismissed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "address"], name="unknownsender_unique")]

    def __str__(self) -> str:
        return self.address


class TemplateLanguage(models.TextChoices):
    ZH = "zh", "中文"
    EN = "en", "English"
    ES = "es", "Español"
    FR = "fr", "Français"
    DE = "de", "Deutsch"
    RU = "ru", "Русский"
    AR = "ar", "العربية"
    PT = "pt", "Português"


class MailTemplate(TimeStamped):
    """A reusable message in one language with merge fields ({{ contact.first_name }},
    {{ company.name }}, {{ user.first_name }}…), rendered in a sandbox: only the listed fields."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"))
    shared = models.BooleanField(_("shared with everyone"), default=False)
    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=5, choices=TemplateLanguage.choices)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name", "language"], name="mailtemplate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class TrackingKind(models.TextChoices):
    OPEN = "open", _("Opened (unreliable)")
    CLICK = "click", _("Clicked")
    REPLY = "reply", _("Replied")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")


class TrackingEvent(models.Model):
    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=TrackingKind.choices)
    url = models.TextField(blank=True)
    at = models.DateTimeField()
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["message", "at"], name="trackingevent_msg_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"

    @property
    def reliable(self) -> bool:
        return self.kind != TrackingKind.OPEN


class Unsubscribe(models.Model):
    """An address that asked for no more bulk mail (List-Unsubscribe / the link in a message)."""

    address = models.CharField(max_length=254, unique=True)
    at = models.DateTimeField()
    message = models.ForeignKey(MailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.address
