"""Writes of campaigns: create / update a draft, launch (render and queue, in queueing.py), pause,
resume, cancel. Keyword-only, with the actor, each change audited in its own transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.mailbox.models import Mailbox, TemplateLanguage

from . import merge
from .models import (
    Campaign,
    CampaignContent,
    CampaignRecipient,
    CampaignStatus,
    RecipientStatus,
    WinnerMetric,
)
from .selectors import can_edit

SETTINGS_FIELDS = ("name", "fallback_language", "split_b", "winner_metric", "window_start", "window_end",
                   "skip_weekends", "per_hour", "per_day", "tracking", "attribution_days")  # fmt: skip


def _int(data: dict, key: str, errors: dict, lo: int, hi: int, message: str) -> int | None:
    raw = data.get(key)
    try:
        value = int(raw)
        if isinstance(raw, bool) or isinstance(raw, float) and raw != value:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault(key, []).append(message)
        return None
    if not lo <= value <= hi:
        errors.setdefault(key, []).append(message)
        return None
    return value


def _bool(value) -> bool:
    return value in (True, "on", "true", "1", 1)


def clean(*, owner, data: dict, current: Campaign | None = None) -> dict:
    """The whole campaign checked at once: {field: [message]} for everything wrong."""
    from tradecrm.customers.segment_selectors import segment_get_for_user

    def val(key, default=None):
        if key in data:
            return data[key]
        if current is not None:
            return getattr(current, key)
        return default

    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    name = str(val("name", "") or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(limit)d characters.") % {"limit": 200}]
    out["name"] = name
    # the segment, seen by the owner (a segment the owner cannot see is as if missing)
    seg = data.get("segment", current.segment_id if current is not None else None)
    seg_id = getattr(seg, "pk", seg)
    if seg_id in (None, ""):
        errors["segment"] = [_("Choose a saved segment.")]
    else:
        try:
            out["segment"] = segment_get_for_user(owner, seg_id)
        except Http404:
            errors["segment"] = [_("This segment does not exist or you cannot see it.")]
    # sending mailboxes: the owner's own
    if "mailboxes" in data or current is None:
        try:
            ids = {int(getattr(m, "pk", m)) for m in (data.get("mailboxes") or [])}
        except (TypeError, ValueError):
            ids = {-1}
        boxes = list(Mailbox.objects.filter(user_id=owner.pk, pk__in=ids))
        if not ids:
            errors["mailboxes"] = [_("Choose at least one of your mailboxes to send from.")]
        elif len(boxes) != len(ids):
            errors["mailboxes"] = [_("You can only send from your own mailboxes.")]
        out["mailboxes"] = boxes
    fallback = val("fallback_language", TemplateLanguage.EN)
    if fallback not in TemplateLanguage.values:
        errors["fallback_language"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(TemplateLanguage.values)}
        ]
    out["fallback_language"] = fallback
    split = _int({"split_b": val("split_b", 0)}, "split_b", errors, 0, 99,
                 _("Enter a share between 0 (no A/B test) and 99 %."))  # fmt: skip
    out["split_b"] = split or 0
    metric = val("winner_metric", WinnerMetric.CLICKS)
    if metric not in WinnerMetric.values:
        errors["winner_metric"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(WinnerMetric.values)}
        ]
    out["winner_metric"] = metric
    start = _int({"window_start": val("window_start", 9)}, "window_start", errors, 0, 23,
                 _("Enter an hour from 0 to 23."))  # fmt: skip
    end = _int(
        {"window_end": val("window_end", 11)}, "window_end", errors, 1, 24, _("Enter an hour from 1 to 24.")
    )
    if start is not None and end is not None and end <= start:
        errors.setdefault("window_end", []).append(_("The window must end after it starts (e.g. 9 to 11)."))
    out["window_start"], out["window_end"] = start, end
    for key, default in (("per_hour", 200), ("per_day", 1000)):
        out[key] = _int({key: val(key, default)}, key, errors, 1, 1_000_000,
                        _("Enter a number of mails greater than 0."))  # fmt: skip
    if out["per_hour"] and out["per_day"] and out["per_hour"] > out["per_day"]:
        errors.setdefault("per_hour", []).append(_("The hourly limit cannot be above the daily one."))
    out["attribution_days"] = _int({"attribution_days": val("attribution_days", 30)}, "attribution_days", errors,
                                   1, 365, _("Enter a number of days from 1 to 365."))  # fmt: skip
    out["skip_weekends"] = _bool(val("skip_weekends", True))
    out["tracking"] = _bool(val("tracking", True))
    # contents: one per language
    if "contents" in data or current is None:
        raw = data.get("contents") or []
    else:
        raw = list(current.contents.values("language", "subject", "subject_b", "body"))
    contents, seen = [], set()
    if not raw:
        errors["contents"] = [_("Write the message in at least one language.")]
    for i, c in enumerate(raw):
        lang = str(c.get("language") or "")
        key = f"contents.{lang or i}"
        if lang not in TemplateLanguage.values:
            errors.setdefault(key, []).append(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(TemplateLanguage.values)}
            )
            continue
        if lang in seen:
            errors.setdefault(key, []).append(_("This language is written twice."))
            continue
        seen.add(lang)
        item = {"language": lang}
        for f, limit in (("subject", 255), ("subject_b", 255), ("body", 100_000)):
            v = str(c.get(f) or "").strip()
            if not v and f != "subject_b":
                errors.setdefault(f"{key}.{f}", []).append(_("This field is required."))
            elif len(v) > limit:
                errors.setdefault(f"{key}.{f}", []).append(
                    _("At most %(limit)d characters.") % {"limit": limit}
                )
            elif v:
                problem = merge.check(v)
                if problem:
                    errors.setdefault(f"{key}.{f}", []).append(problem)
            item[f] = v
        if item.get("subject_b") and not out["split_b"]:
            errors.setdefault("split_b", []).append(
                _(
                    "Subject B is written for %(language)s: give the share of recipients that get it (1-99 %%)."
                )
                % {"language": lang}
            )
        if out["split_b"] and not item.get("subject_b"):
            errors.setdefault(f"{key}.subject_b", []).append(
                _("The A/B test needs subject B in every language.")
            )
        contents.append(item)
    if contents and fallback not in seen and "fallback_language" not in errors:
        errors["fallback_language"] = [
            _("Write the message in the fallback language (%(language)s) too.") % {"language": fallback}
        ]
    out["contents"] = contents
    if errors:
        raise ValidationError(errors)
    return out


def _save_contents(campaign: Campaign, contents: list[dict]) -> None:
    CampaignContent.objects.filter(campaign=campaign).delete()
    CampaignContent.objects.bulk_create([CampaignContent(campaign=campaign, **c) for c in contents])


@transaction.atomic
def campaign_create(*, actor, data: dict) -> Campaign:
    from tradecrm.accounts.access import require_writer

    require_writer(actor)
    c = clean(owner=actor, data=data)
    campaign = Campaign.objects.create(owner=actor, team_id=actor.team_id, segment=c["segment"],
                                       **{k: c[k] for k in SETTINGS_FIELDS})  # fmt: skip
    campaign.mailboxes.set(c["mailboxes"])
    _save_contents(campaign, c["contents"])
    audit_record(actor=actor, action="campaign.create", obj=campaign,
                 changes={"name": campaign.name, "segment": campaign.segment_id,
                          "languages": [x["language"] for x in c["contents"]]})  # fmt: skip
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, version: int | None, data: dict) -> Campaign:
    """Only a draft can be changed (what was queued stays as it was rendered)."""
    if not can_edit(actor, campaign):
        raise PermissionDenied(_("Only the owner, a manager or an administrator can change this campaign."))
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if version is not None and locked.version != int(version):
        raise ConcurrentEditError(by="", at=locked.updated_at, current_version=locked.version)
    if locked.status != CampaignStatus.DRAFT:
        raise ValidationError(
            {
                "status": [
                    _("Only a draft can be changed; this campaign is %(status)s.")
                    % {"status": locked.get_status_display()}
                ]
            }
        )
    c = clean(owner=locked.owner, data=data, current=locked)
    changes = {k: [getattr(locked, k), c[k]] for k in SETTINGS_FIELDS if getattr(locked, k) != c[k]}
    for k in SETTINGS_FIELDS:
        setattr(locked, k, c[k])
    if locked.segment_id != c["segment"].pk:
        changes["segment"] = [locked.segment_id, c["segment"].pk]
    locked.segment = c["segment"]
    locked.version += 1
    locked.save()
    if "mailboxes" in data:
        locked.mailboxes.set(c["mailboxes"])
    if "contents" in data:
        _save_contents(locked, c["contents"])
        changes["contents"] = sorted(x["language"] for x in c["contents"])
    audit_record(actor=actor, action="campaign.update", obj=locked, changes=changes)
    return locked


def _transition(*, actor, campaign: Campaign, allowed: tuple, to: str, action: str) -> Campaign:
    if not can_edit(actor, campaign):
        raise PermissionDenied(_("Only the owner, a manager or an administrator can change this campaign."))
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in allowed:
            raise ValidationError(
                {
                    "status": [
                        _("A campaign that is %(status)s cannot be %(action)s.")
                        % {
                            "status": locked.get_status_display(),
                            "action": {
                                "pause": _("paused"),
                                "resume": _("resumed"),
                                "cancel": _("cancelled"),
                            }[action],
                        }
                    ]
                }
            )
        frm = locked.status
        locked.status = to
        locked.version = F("version") + 1
        fields = ["status", "version", "updated_at"]
        if to == CampaignStatus.CANCELLED:
            locked.finished_at = timezone.now()
            fields.append("finished_at")
            n = CampaignRecipient.objects.filter(campaign=locked, status=RecipientStatus.QUEUED).update(
                status=RecipientStatus.CANCELLED
            )
            from tradecrm.mailbox.models import MailMessage, MessageStatus

            MailMessage.objects.filter(
                campaign_recipient__campaign=locked, status=MessageStatus.QUEUED
            ).update(status=MessageStatus.FAILED, error=_("The campaign was cancelled."))
        else:
            n = None
        locked.save(update_fields=fields)
        locked.refresh_from_db()
        audit_record(actor=actor, action=f"campaign.{action}", obj=locked,
                     changes={"status": [frm, to], **({"cancelled_recipients": n} if n is not None else {})})  # fmt: skip
    return locked


def campaign_pause(*, actor, campaign: Campaign) -> Campaign:
    return _transition(actor=actor, campaign=campaign, allowed=(CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
                       to=CampaignStatus.PAUSED, action="pause")  # fmt: skip


def campaign_resume(*, actor, campaign: Campaign) -> Campaign:
    return _transition(actor=actor, campaign=campaign, allowed=(CampaignStatus.PAUSED,),
                       to=CampaignStatus.SENDING, action="resume")  # fmt: skip


def campaign_cancel(*, actor, campaign: Campaign) -> Campaign:
    return _transition(actor=actor, campaign=campaign, allowed=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED,
                       CampaignStatus.SENDING, CampaignStatus.PAUSED), to=CampaignStatus.CANCELLED, action="cancel")  # fmt: skip


from .queueing import campaign_launch, launch_plan, preview  # noqa: E402,F401  (the launch lives in queueing.py)
