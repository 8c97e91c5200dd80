"""The daily digest email: at 08:00 in each user's own time zone, their overdue follow-ups, those
due today (with each customer's local time at the due moment) and their unread notifications not
yet emailed, in the user's language. Nothing is sent when there is nothing to say.

Once per local day: a sent digest is recorded as a read notification of kind "digest" keyed
"digest:<local date>". The (user, key) unique constraint makes the record race-safe (two workers,
or the command beside the task, cannot both send), and no new table or field is needed. The
record is written before sending and removed again if sending fails, so a failure can be retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils import timezone as djtz
from django.utils.translation import gettext as _

from tradecrm.accounts.models import User
from tradecrm.core import reach

from . import notifications as notes
from .models import FollowUp, FollowUpStatus, Notification

log = logging.getLogger(__name__)

DIGEST_HOUR = 8
DIGEST_KIND = "digest"
MAX_ROWS = 50  # per section; the rest is counted ("and 12 more")


@dataclass
class Digest:
    user: User
    local_now: datetime
    overdue: list[dict] = field(default_factory=list)
    today: list[dict] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    overdue_more: int = 0
    today_more: int = 0
    notifications_more: int = 0
    notification_ids: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.notifications)


def _zone(user) -> ZoneInfo:
    return reach.zone(user.timezone) or ZoneInfo("UTC")


def _key(local_now: datetime) -> str:
    return f"digest:{local_now.date().isoformat()}"


_FORMATS = {
    # (en, zh): Chinese reads month-day before the weekday
    "when": ("D j M H:i", "n月j日 D H:i"),
    "day_time": ("D H:i", "D H:i"),
    "date": ("l j F Y", "Y年n月j日 l"),
    "short": ("j M", "n月j日"),
}


def _fmt(value: datetime, kind: str) -> str:
    """Format an aware datetime in its own zone, in the active language."""
    zh = (translation.get_language() or "").startswith("zh")
    return dateformat.format(value, _FORMATS[kind][1 if zh else 0])


def base_url() -> str:
    return settings.TRADECRM_BASE_URL.rstrip("/")


_STATE_LABELS = {
    # "within" needs no remark; a holiday is named on its own line
    "outside": lambda: _("outside office hours"),
    "weekend": lambda: _("weekend"),
}


def _followup_row(f: FollowUp, tz: ZoneInfo, language: str) -> dict:
    due = f.due_at.astimezone(tz)
    customer = reach.customer_time_at(f.company, f.due_at, language)
    return {
        "title": f.title,
        "company": f.company.name,
        "due": _fmt(due, "when"),
        "customer_time": _fmt(customer["local"], "day_time") if customer else "",
        "customer_zone": f.company.timezone if customer else "",
        "customer_state": customer["state"] if customer else "",
        "customer_state_label": _STATE_LABELS.get(customer["state"], lambda: "")() if customer else "",
        "holiday": customer["holiday"] if customer else "",
        "url": base_url() + reverse("customers:company_detail", args=[f.company_id]),
    }


def build(user, now: datetime | None = None) -> Digest:
    """What the user's digest would say now (in the active language)."""
    now = now or djtz.now()
    tz = _zone(user)
    local_now = now.astimezone(tz)
    end_of_day = datetime.combine(local_now.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    language = user.language or "en"
    digest = Digest(user=user, local_now=local_now)

    due = list(
        FollowUp.objects.filter(assignee=user, status=FollowUpStatus.OPEN, due_at__lt=end_of_day)
        .select_related("company")
        .only(
            "id",
            "title",
            "due_at",
            "company_id",
            "company__name",
            "company__timezone",
            "company__country",
            "company__office_start",
            "company__office_end",
        )
        .order_by("due_at", "id")[: 2 * MAX_ROWS + 1]
    )
    overdue = [f for f in due if f.due_at < now]
    today = [f for f in due if f.due_at >= now]
    digest.overdue = [_followup_row(f, tz, language) for f in overdue[:MAX_ROWS]]
    digest.today = [_followup_row(f, tz, language) for f in today[:MAX_ROWS]]
    if len(due) > 2 * MAX_ROWS or len(overdue) > MAX_ROWS or len(today) > MAX_ROWS:
        counts = FollowUp.objects.filter(assignee=user, status=FollowUpStatus.OPEN, due_at__lt=end_of_day)
        digest.overdue_more = max(0, counts.filter(due_at__lt=now).count() - len(digest.overdue))
        digest.today_more = max(0, counts.filter(due_at__gte=now).count() - len(digest.today))

    unread = Notification.objects.filter(user=user, read_at__isnull=True, emailed_at__isnull=True).exclude(
        kind=DIGEST_KIND
    )
    rows = list(
        unread.order_by("-created_at", "-id").values("id", "kind", "params", "url", "created_at")[
            : MAX_ROWS + 1
        ]
    )
    if len(rows) > MAX_ROWS:
        digest.notifications_more = unread.count() - MAX_ROWS
        rows = rows[:MAX_ROWS]
    for r in rows:
        digest.notifications.append(
            {
                "text": notes.render(r),
                "when": _fmt(r["created_at"].astimezone(tz), "when"),
                "url": base_url() + reverse("notifications:open", args=[r["id"]]),
            }
        )
    digest.notification_ids = [r["id"] for r in rows]
    return digest


def _message(digest: Digest) -> EmailMultiAlternatives:
    user = digest.user
    ctx = {
        "d": digest,
        "user": user,
        "date": _fmt(digest.local_now, "date"),
        "base_url": base_url(),
        "preferences_url": base_url() + reverse("accounts:preferences"),
    }
    subject = _("TradeCRM daily digest, %(date)s: %(overdue)s overdue, %(today)s due today") % {
        "date": _fmt(digest.local_now, "short"),
        "overdue": len(digest.overdue) + digest.overdue_more,
        "today": len(digest.today) + digest.today_more,
    }
    text = render_to_string("followups/digest_email.txt", ctx)
    html = render_to_string("followups/digest_email.html", ctx)
    msg = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Content-Language": translation.get_language() or "en", "Auto-Submitted": "auto-generated"},
    )
    msg.attach_alternative(html, "text/html")
    return msg


def send_digest(user, now: datetime | None = None, *, force: bool = False) -> str:
    """Send the user's digest for their current local day. Returns "sent", "empty" (nothing to
    say), "already" (sent earlier this local day) or "no-email". `force` sends even if one went
    out today (and does not record a second one)."""
    if not user.email:
        return "no-email"
    now = now or djtz.now()
    local_now = now.astimezone(_zone(user))
    key = _key(local_now)
    if not force and Notification.objects.filter(user=user, key=key).exists():
        return "already"
    with translation.override(user.language or "en"):
        digest = build(user, now)
        if digest.empty:
            return "empty"
        msg = _message(digest)
    record = None
    try:
        with transaction.atomic():
            record = Notification.objects.create(
                user=user, kind=DIGEST_KIND, key=key, created_at=now, read_at=now, emailed_at=now
            )
    except IntegrityError:
        if not force:
            return "already"  # another worker got there first
    try:
        msg.send()
    except Exception:
        if record is not None:
            record.delete()
        raise
    if digest.notification_ids:
        Notification.objects.filter(id__in=digest.notification_ids).update(emailed_at=now)
    return "sent"


def users_due(now: datetime | None = None):
    """Users who want a digest and whose local hour is now DIGEST_HOUR."""
    now = (now or djtz.now()).astimezone(UTC)
    wanting = User.objects.filter(is_active=True, daily_digest=True).exclude(email="")
    zones = set(wanting.values_list("timezone", flat=True).distinct())
    due_zones = [z for z in zones if now.astimezone(reach.zone(z) or ZoneInfo("UTC")).hour == DIGEST_HOUR]
    if not due_zones:
        return User.objects.none()
    return wanting.filter(timezone__in=due_zones).order_by("id")


def send_due_digests(now: datetime | None = None) -> dict[str, int]:
    """The hourly pass: every user whose local time is 08:xx gets today's digest once."""
    now = now or djtz.now()
    counts: dict[str, int] = {}
    for user in users_due(now):
        try:
            result = send_digest(user, now)
        except Exception:  # one bad address or a flaky SMTP server must not stop the others
            log.exception("daily digest for user %s failed", user.pk)
            result = "failed"
        counts[result] = counts.get(result, 0) + 1
    return counts
