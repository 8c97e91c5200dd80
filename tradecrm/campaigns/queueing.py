"""Launch = render and queue (the hot path: ≥ 1,000 mails/s for 100,000 recipients).

The segment is resolved for the campaign's owner (only customers the owner sees), contacts are read
as tuples, each address is checked once against the unsubscribe and suppression lists, the
language and the A/B variant are picked, subject and body are rendered from templates compiled
once, and each chunk of 1,000 recipients is written in its own short transaction with two
`executemany` inserts (the rendered `MailMessage` rows, then the `CampaignRecipient` rows), so a
launch never holds the SQLite write lock for long. One audit event records the launch.
docs/decisions/0012-campaign-queue.md has the measurements behind this."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.geo import infer_timezone, is_weekend
from tradecrm.mailbox.models import MailMessage, MessageDirection, MessageStatus, Unsubscribe

from . import merge
from .models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus, SkipReason, Suppression
from .selectors import can_edit

CHUNK = 1000


# --- who gets it, in which language, when ---------------------------------------------------------


def language_code(value: str) -> str:
    """ "zh-Hans" / "zh_CN" / "EN-us" -> "zh" / "zh" / "en"."""
    return (value or "").replace("_", "-").split("-", 1)[0].strip().lower()


def variant_of(campaign_id: int, email: str, split_b: int) -> str:
    """Deterministic A/B assignment: the same address always gets the same subject in a campaign
    (a CRC of campaign and address, not Python's per-process salted hash)."""
    if split_b <= 0:
        return "a"
    return "b" if zlib.crc32(f"{campaign_id}:{email}".encode()) % 100 < split_b else "a"


def zone_of(name: str, country: str) -> ZoneInfo:
    for candidate in (name, infer_timezone(country or "") if country else "", "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (KeyError, ValueError):
                continue
    return ZoneInfo("UTC")


def in_window(
    now: dt.datetime, zone: ZoneInfo, country: str, start: int, end: int, skip_weekends: bool
) -> bool:
    local = now.astimezone(zone)
    if skip_weekends and is_weekend(country, local.weekday()):
        return False
    return start <= local.hour < end


def window_due(
    now: dt.datetime, zone: ZoneInfo, country: str, start: int, end: int, skip_weekends: bool
) -> dt.datetime:
    """`now` when the recipient's local time is inside the send window, else the next start of
    the window (on a working day when weekends are skipped), in UTC."""
    local = now.astimezone(zone)
    for i in range(8):
        day = local.date() + dt.timedelta(days=i)
        if skip_weekends and is_weekend(country, day.weekday()):
            continue
        opens = dt.datetime.combine(day, dt.time(start), tzinfo=zone)
        closes = dt.datetime.combine(day, dt.time(end - 1, 59, 59), tzinfo=zone)
        if local > closes:
            continue
        return max(opens, local).astimezone(dt.UTC)
    return now


@dataclass
class Target:
    company_id: int
    contact_id: int | None
    email: str
    language: str
    variant: str
    tz: str
    country: str
    skip: str  # "" or a SkipReason
    company: dict
    contact: dict


def _companies(campaign: Campaign) -> dict[int, dict]:
    from tradecrm.customers.segment_selectors import segment_companies

    if campaign.segment is None:
        raise ValidationError(
            {"segment": [_("The segment of this campaign was deleted: choose another one.")]}
        )
    rows = segment_companies(campaign.owner, campaign.segment).values_list(
        "id", "name", "name_local", "country", "city", "timezone", "preferred_language"
    )
    return {r[0]: {"name": r[1] or "", "name_local": r[2] or "", "country": r[3] or "", "city": r[4] or "",
                   "_tz": r[5] or "", "_lang": r[6] or ""} for r in rows.iterator(chunk_size=5000)}  # fmt: skip


def targets(campaign: Campaign, languages: set[str]) -> Iterator[Target]:
    """Every contact of the segment's companies, with its address checked and its language and
    variant picked; skipped ones carry the reason."""
    from tradecrm.customers.models import Contact

    companies = _companies(campaign)
    if not companies:
        return
    blocked = {a: SkipReason.SUPPRESSED for a in Suppression.objects.values_list("address", flat=True)}
    blocked.update(
        {a: SkipReason.UNSUBSCRIBED for a in Unsubscribe.objects.values_list("address", flat=True)}
    )
    seen: set[str] = set()
    zones: dict[tuple[str, str], str] = {}
    ids = list(companies)
    for i in range(0, len(ids), 5000):
        rows = (Contact.objects.filter(company_id__in=ids[i:i + 5000])
                .order_by("company_id", "-is_primary", "id")
                .values_list("id", "company_id", "first_name", "last_name", "name_local", "title", "email",
                             "preferred_language"))  # fmt: skip
        for cid, company_id, first, last, local, title, email, lang in rows.iterator(chunk_size=5000):
            co = companies[company_id]
            email = (email or "").strip().lower()
            if not email or "@" not in email:
                skip = SkipReason.NO_EMAIL
            elif email in seen:
                skip = SkipReason.DUPLICATE
            else:
                skip = blocked.get(email, "")
                seen.add(email)
            language = language_code(lang)
            if language not in languages:
                language = language_code(co["_lang"])
                if language not in languages:
                    language = campaign.fallback_language
            key = (co["_tz"], co["country"])
            tz = zones.get(key)
            if tz is None:
                tz = zones[key] = zone_of(*key).key
            yield Target(company_id, cid, email, language,
                         variant_of(campaign.pk, email, campaign.split_b) if email else "",
                         tz, co["country"], skip, co,
                         merge.contact_fields(first or "", last or "", local or "", title or "", email))  # fmt: skip


def launch_plan(campaign: Campaign) -> dict:
    """What a launch would do now: recipients, skipped by reason, by language and variant."""
    languages = set(campaign.contents.values_list("language", flat=True))
    queued, skipped, by_language, by_variant = 0, Counter(), Counter(), Counter()
    for t in targets(campaign, languages):
        if t.skip:
            skipped[t.skip] += 1
        else:
            queued += 1
            by_language[t.language] += 1
            by_variant[t.variant] += 1
    return {"queued": queued, "skipped": {str(k): v for k, v in skipped.items()}, "skipped_total": sum(skipped.values()),
            "by_language": dict(by_language), "by_variant": dict(by_variant)}  # fmt: skip


class Renderer:
    """Subject and body templates compiled once per language (and variant)."""

    def __init__(self, campaign: Campaign):
        self.owner = merge.user_fields(campaign.owner)
        self.subjects, self.bodies = {}, {}
        for c in campaign.contents.all():
            self.subjects[(c.language, "a")] = merge.compile_(c.subject)
            self.subjects[(c.language, "b")] = merge.compile_(c.subject_b or c.subject)
            self.bodies[c.language] = merge.compile_(c.body)

    def render(self, language: str, variant: str, company: dict, contact: dict) -> tuple[str, str]:
        ctx = {"contact": contact, "company": company, "user": self.owner}
        subject = self.subjects[(language, variant or "a")].render_plain(ctx)
        body = self.bodies[language].render_plain(ctx)
        return " ".join(subject.split())[:255], body


def preview(campaign: Campaign, contact_id: int | None = None) -> dict | None:
    """The message one recipient would get (the first one with an address, or `contact_id`)."""
    languages = set(campaign.contents.values_list("language", flat=True))
    if not languages:
        return None
    r = Renderer(campaign)
    for t in targets(campaign, languages):
        if not t.email or (contact_id is not None and t.contact_id != contact_id):
            continue
        subject_a, body = r.render(t.language, "a", t.company, t.contact)
        subject_b = r.render(t.language, "b", t.company, t.contact)[0] if campaign.ab_test else ""
        return {"company_id": t.company_id, "contact_id": t.contact_id, "email": t.email, "language": t.language,
                "variant": t.variant, "subject": subject_a, "subject_b": subject_b, "body": body,
                "skipped": t.skip}  # fmt: skip
    return None


# --- the launch --------------------------------------------------------------------------------------


class _MessageRows:
    """INSERT of MailMessage rows by `executemany`: every column of the model, the constant ones
    prepared once (defaults through the field's own conversion), the varying ones per row."""

    VARYING = ("mailbox_id", "from_addr", "from_name", "company_id", "contact_id", "message_id", "to_addrs",
               "subject", "body_text", "scheduled_for")  # fmt: skip

    def __init__(self, campaign: Campaign, now: dt.datetime):
        fields = [f for f in MailMessage._meta.concrete_fields if not f.primary_key]
        fixed = {"direction": MessageDirection.OUTBOUND, "status": MessageStatus.QUEUED,
                 "created_by_id": campaign.owner_id, "tracking": campaign.tracking, "list_unsubscribe": True,
                 "created_at": now}  # fmt: skip
        self.fields = fields
        self.row: list = []
        self.pos: dict[str, int] = {}
        for i, f in enumerate(fields):
            self.pos[f.attname] = i
            value = (
                fixed[f.attname]
                if f.attname in fixed
                else (None if f.attname in self.VARYING else f.get_default())
            )
            self.row.append(f.get_db_prep_save(value, connection) if value is not None else None)
        q = connection.ops.quote_name
        self.sql = (f"INSERT INTO {q(MailMessage._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(fields))})")  # fmt: skip
        to_field = MailMessage._meta.get_field("to_addrs")
        # SQLite stores JSON as text: json.dumps straight away; PostgreSQL needs the field's adapter
        self.json = (
            json.dumps
            if connection.vendor == "sqlite"
            else (lambda v: to_field.get_db_prep_save(v, connection))
        )
        self._dates: dict = {}

    def make(self, mailbox, t: Target, message_id: str, subject: str, body: str, due: dt.datetime) -> list:
        r = self.row.copy()
        p = self.pos
        r[p["mailbox_id"]] = mailbox.pk
        r[p["from_addr"]] = mailbox.email
        r[p["from_name"]] = mailbox.display_name or ""
        r[p["company_id"]] = t.company_id
        r[p["contact_id"]] = t.contact_id
        r[p["message_id"]] = message_id
        r[p["to_addrs"]] = self.json([t.email])
        r[p["subject"]] = subject
        r[p["body_text"]] = body
        d = self._dates.get(due)
        if d is None:
            d = self._dates[due] = connection.ops.adapt_datetimefield_value(due)
        r[p["scheduled_for"]] = d
        return r


RCPT_COLUMNS = ("campaign_id", "company_id", "contact_id", "email", "language", "variant", "tz", "country",
                "mailbox_id", "message_id", "status", "skip_reason", "due_at", "attempts", "error")  # fmt: skip


def _write_chunk(msg_rows: _MessageRows, rcpt_sql: str, pending: list[tuple], skipped: list[tuple]) -> None:
    """One transaction: the chunk's messages, their ids back by Message-ID, the recipients."""
    with transaction.atomic(), connection.cursor() as cur:
        ids: dict[str, int] = {}
        if pending:
            cur.executemany(msg_rows.sql, [p[1] for p in pending])
            q = connection.ops.quote_name
            table = q(MailMessage._meta.db_table)
            mids = [p[2] for p in pending]
            for i in range(0, len(mids), 500):
                part = mids[i : i + 500]
                cur.execute(f"SELECT id, message_id FROM {table} WHERE message_id IN ({', '.join(['%s'] * len(part))})",
                            part)  # fmt: skip
                ids.update({mid: pk for pk, mid in cur.fetchall()})
        rows = [(*p[0][:9], ids[p[2]], *p[0][10:]) for p in pending] + skipped
        if rows:
            cur.executemany(rcpt_sql, rows)


def campaign_launch(*, actor, campaign: Campaign, now: dt.datetime | None = None) -> dict:
    """Render and queue every recipient of a draft campaign. Returns the counts (queued, skipped
    by reason, seconds, mails per second). Refused: not a draft (launched twice), nothing to send."""
    if not can_edit(actor, campaign):
        raise PermissionDenied(_("Only the owner, a manager or an administrator can launch this campaign."))
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("owner", "segment")
            .get(pk=campaign.pk)
        )
        if locked.status != CampaignStatus.DRAFT:
            raise ValidationError(
                {
                    "status": [
                        _("This campaign was launched already (it is %(status)s).")
                        % {"status": locked.get_status_display()}
                    ]
                }
            )
        from .services import clean

        clean(owner=locked.owner, data={}, current=locked)  # the saved draft is still valid (segment…)
        if not locked.mailboxes.exists():  # its mailboxes were removed since it was saved
            raise ValidationError({"mailboxes": [_("Choose at least one of your mailboxes to send from.")]})
        # claim it: a second launch (double click, two tabs) finds it scheduled and stops above
        Campaign.objects.filter(pk=locked.pk).update(status=CampaignStatus.SCHEDULED, updated_at=now)
    mailboxes = list(locked.mailboxes.order_by("id"))
    try:
        counts = _queue_all(locked, mailboxes, now)
    except BaseException:
        _undo(locked)
        raise
    seconds = time.perf_counter() - started
    counts["seconds"] = round(seconds, 3)
    counts["per_second"] = round(counts["queued"] / seconds, 1) if seconds > 0 else None
    if counts["queued"] == 0:
        _undo(locked)
        raise ValidationError(
            {
                "segment": [
                    _("Nobody to send to: the segment has no contact with a usable address (%(skipped)s).")
                    % {
                        "skipped": ", ".join(
                            f"{SkipReason(k).label}: {v}" for k, v in counts["skipped"].items()
                        )
                        or _("the segment is empty")
                    }
                ]
            }
        )
    with transaction.atomic():
        Campaign.objects.filter(pk=locked.pk).update(
            launched_at=now, launch_counts=counts, updated_at=timezone.now()
        )
        audit_record(actor=actor, action="campaign.launch", obj=locked, changes=counts)
    campaign.status, campaign.launched_at, campaign.launch_counts = CampaignStatus.SCHEDULED, now, counts
    return counts


def _undo(campaign: Campaign) -> None:
    """A launch that failed half-way leaves nothing queued: the campaign is a draft again."""
    with transaction.atomic():
        ids = CampaignRecipient.objects.filter(campaign=campaign, message__isnull=False).values("message_id")
        MailMessage.objects.filter(pk__in=ids).delete()
        CampaignRecipient.objects.filter(campaign=campaign).delete()
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT, launched_at=None)


def _queue_all(campaign: Campaign, mailboxes: list, now: dt.datetime) -> dict:
    languages = set(campaign.contents.values_list("language", flat=True))
    renderer = Renderer(campaign)
    msg_rows = _MessageRows(campaign, now)
    q = connection.ops.quote_name
    rcpt_sql = (f"INSERT INTO {q(CampaignRecipient._meta.db_table)} ({', '.join(q(c) for c in RCPT_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(RCPT_COLUMNS))})")  # fmt: skip
    token = secrets.token_hex(5)
    dues: dict[tuple[str, str], dt.datetime] = {}
    adapted: dict[dt.datetime, object] = {}
    queued, skipped, by_language, by_variant = 0, Counter(), Counter(), Counter()
    pending: list[tuple] = []
    skipped_rows: list[tuple] = []
    n = 0
    for t in targets(campaign, languages):
        if t.skip:
            skipped[t.skip] += 1
            skipped_rows.append((campaign.pk, t.company_id, t.contact_id, t.email, t.language, t.variant, t.tz,
                                 t.country, None, None, RecipientStatus.SKIPPED, t.skip, None, 0, ""))  # fmt: skip
        else:
            mailbox = mailboxes[n % len(mailboxes)]
            n += 1
            key = (t.tz, t.country)
            due = dues.get(key)
            if due is None:
                due = dues[key] = window_due(now, ZoneInfo(t.tz), t.country, campaign.window_start,
                                             campaign.window_end, campaign.skip_weekends)  # fmt: skip
                adapted[due] = connection.ops.adapt_datetimefield_value(due)
            subject, body = renderer.render(t.language, t.variant, t.company, t.contact)
            domain = mailbox.email.rsplit("@", 1)[-1]
            mid = f"<c{campaign.pk}.{token}.{n}@{domain}>"
            pending.append((
                (campaign.pk, t.company_id, t.contact_id, t.email, t.language, t.variant, t.tz, t.country, mailbox.pk,
                 None, RecipientStatus.QUEUED, "", adapted[due], 0, ""),
                msg_rows.make(mailbox, t, mid, subject, body, due), mid,
            ))  # fmt: skip
            queued += 1
            by_language[t.language] += 1
            by_variant[t.variant] += 1
        if len(pending) + len(skipped_rows) >= CHUNK:
            _write_chunk(msg_rows, rcpt_sql, pending, skipped_rows)
            pending, skipped_rows = [], []
    if pending or skipped_rows:
        _write_chunk(msg_rows, rcpt_sql, pending, skipped_rows)
    return {"queued": queued, "skipped": {str(k): v for k, v in skipped.items()}, "skipped_total": sum(skipped.values()),
            "by_language": dict(by_language), "by_variant": dict(by_variant)}  # fmt: skip
