"""Writes of the integrations app: webhook endpoints, the sending of webhook deliveries, the
idempotent ERP entry points and the ERP's customer codes.

Decisions:
- Events come from the audit trail, not from model signals: every service that changes a customer,
  opportunity, order or payment writes its audit event in the same transaction (and several of them
  change rows with `.update()`, which fires no post_save). `signals.py` turns such an event into a
  webhook event after the commit. Bulk imports write with raw SQL and emit no per-row events; the
  finished job emits one `import.completed`.
- The per-save cost when nobody listens is one cache read (`subscribed_events`), no query.
- A delivery is tried at once after the commit, then again after 1 min, 5 min, 30 min, 2 h and
  12 h (6 attempts) on a network error, a timeout or a 5xx/3xx/4xx answer. Only 2xx is success.
- An endpoint is switched off after TRADECRM_WEBHOOK_DISABLE_AFTER failed attempts in a row, and
  the administrators get a notification. Switching it on again resets the count; its waiting
  deliveries are then sent by the periodic task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.api import dumps
from tradecrm.core.errors import ConcurrentEditError, Errors, ValidationError
from tradecrm.core.ids import parse_id

from .models import (
    EVENTS,
    IMPORT_COMPLETED,
    DeliveryStatus,
    ExternalRef,
    IdempotencyKey,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 1800, 7200, 43200)  # seconds before attempts 2..6
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = dt.timedelta(minutes=15)  # a claimed delivery is not picked again by another worker before this
EXCERPT = 1000
CACHE_KEY = "integrations:webhook-events"
CACHE_SECONDS = 60  # other worker processes see an endpoint change within this time
IDEMPOTENCY_DAYS = 30
USER_AGENT = "TradeCRM-Webhooks/1"


def disable_after() -> int:
    return int(getattr(settings, "TRADECRM_WEBHOOK_DISABLE_AFTER", 15))


# --- signing and sending --------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-TradeCRM-Signature value: "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300, now=None
) -> bool:
    """What a receiver does (here for tests and as the documented reference): the signature matches
    and the timestamp is no more than `tolerance` seconds away from now."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = int((now or timezone.now()).timestamp())
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


@dataclass
class CallResult:
    ok: bool
    status: int | None
    body: str
    error: str
    duration_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # a redirect would turn the POST into a GET without the body: report it instead
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def check_url(url: str) -> str | None:
    """The reason `url` cannot be called, or None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Enter an http:// or https:// address.")
    return None


def webhook_call(
    url: str, payload: Any, secret: str | None = None, timeout: float = 10, *, event: str = "",
    delivery_id: str = "",
) -> CallResult:  # fmt: skip
    """POST `payload` as JSON to `url`; signed when `secret` is given. Never raises for the
    receiver's faults: the outcome (2xx = ok, status, start of the answer, error text, duration)
    is returned. Used by the webhook deliveries and by automation's "call a webhook" action."""
    problem = check_url(url)
    if problem:
        return CallResult(False, None, "", problem, 0)
    body = payload if isinstance(payload, bytes) else dumps(payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-TradeCRM-Timestamp": timestamp,
    }
    if event:
        headers["X-TradeCRM-Event"] = event
    headers["X-TradeCRM-Delivery"] = delivery_id or str(uuid.uuid4())
    if secret:
        headers["X-TradeCRM-Signature"] = sign(secret, timestamp, body)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    status, text, error = None, "", ""
    try:
        with _opener.open(req, timeout=timeout) as resp:
            status = resp.status
            text = resp.read(EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            text = exc.read(EXCERPT).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the answer's body is only informative
            text = ""
        error = f"HTTP {exc.code}"
    except TimeoutError:
        error = _("No answer within %(seconds)s seconds.") % {"seconds": timeout}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = (
            _("Timed out.") if isinstance(reason, TimeoutError) else f"{type(reason).__name__}: {reason}"
        )[:500]
    duration = int((time.perf_counter() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    return CallResult(ok, status, text[:EXCERPT], error[:500], duration)


# --- endpoints (administrators) ---------------------------------------------------------------------


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may manage webhooks."))


def can_manage(user) -> bool:
    return bool(getattr(user, "is_admin", False))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean_endpoint(data: dict, *, partial: bool) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors.add("name", _("Enter a name for the endpoint."))
        elif len(name) > 100:
            errors.add("name", _("At most 100 characters."))
        out["name"] = name
    if not partial or "url" in data:
        url = str(data.get("url") or "").strip()
        problem = check_url(url) if url else _("Enter the address that receives the events.")
        if not problem and len(url) > 500:
            problem = _("At most 500 characters.")
        if problem:
            errors.add("url", problem)
        out["url"] = url
    if not partial or "events" in data:
        events = data.get("events") or []
        if isinstance(events, str):
            events = [e for e in events.replace(",", " ").split() if e]
        events = list(dict.fromkeys(str(e).strip() for e in events))
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            errors.add("events", _("Unknown events: %(events)s. Choose from: %(choices)s.")
                       % {"events": ", ".join(unknown), "choices": ", ".join(EVENTS)})  # fmt: skip
        elif not events:
            errors.add("events", _("Choose at least one event."))
        out["events"] = [e for e in EVENTS if e in events]
    if "secret" in data and data["secret"] not in (None, ""):
        secret = str(data["secret"]).strip()
        if len(secret) < 16 or len(secret) > 128:
            errors.add("secret", _("The secret must be 16 to 128 characters long."))
        out["secret"] = secret
    if "active" in data and data["active"] is not None:
        value = data["active"]
        out["active"] = value.lower() in ("1", "true", "on", "yes") if isinstance(value, str) else bool(value)
    errors.raise_if_any()
    return out


def _forget_subscriptions() -> None:
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


@transaction.atomic
def endpoint_create(*, actor, data: dict) -> WebhookEndpoint:
    _check_admin(actor)
    clean = _clean_endpoint(data, partial=False)
    clean.setdefault("secret", new_secret())
    endpoint = WebhookEndpoint.objects.create(
        **clean, created_by=actor if getattr(actor, "pk", None) else None
    )
    audit_record(actor=actor, action="webhook.create", obj=endpoint,
                 changes={"name": endpoint.name, "url": endpoint.url, "events": endpoint.events})  # fmt: skip
    _forget_subscriptions()
    return endpoint


@transaction.atomic
def endpoint_update(*, actor, endpoint: WebhookEndpoint, version: int, data: dict) -> WebhookEndpoint:
    """Switching an endpoint on again resets its failure count; its waiting deliveries go out with
    the next periodic run."""
    _check_admin(actor)
    clean = _clean_endpoint(data, partial=True)
    current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if current.version != version:
        raise ConcurrentEditError(by="", at=current.updated_at, current_version=current.version)
    before = {k: getattr(current, k) for k in clean}
    for k, v in clean.items():
        setattr(current, k, v)
    if clean.get("active") and not before.get("active"):
        current.consecutive_failures = 0
        current.disabled_at = None
        current.disabled_reason = ""
    current.version += 1
    current.save()
    changes = {
        k: ["…", "…"] if k == "secret" else [before[k], clean[k]] for k in clean if before[k] != clean[k]
    }
    audit_record(actor=actor, action="webhook.update", obj=current, changes=changes)
    _forget_subscriptions()
    return current


@transaction.atomic
def endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    _check_admin(actor)
    audit_record(actor=actor, action="webhook.delete", obj=endpoint, changes={"name": endpoint.name})
    endpoint.delete()
    _forget_subscriptions()


# --- events -----------------------------------------------------------------------------------------


def subscribed_events() -> frozenset[str]:
    """The events at least one active endpoint wants; cached so that a save costs no query."""
    events = cache.get(CACHE_KEY)
    if events is None:
        found: set[str] = set()
        for row in WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True):
            found.update(row or [])
        events = sorted(found)
        cache.set(CACHE_KEY, events, CACHE_SECONDS)
    return frozenset(events)


def serialize(entity: str, object_id: int) -> dict | None:
    """The object as the API shows it (costs left out), or None when it is gone."""
    from types import SimpleNamespace

    viewer = SimpleNamespace(is_admin=False, role="sales", pk=None, id=None, is_authenticated=True)
    request = SimpleNamespace(auth=viewer, user=viewer)
    if entity == "company":
        from tradecrm.customers.api import _company_out
        from tradecrm.customers.models import Company

        company = Company.objects.select_related("owner", "updated_by").filter(pk=object_id).first()
        return None if company is None else _company_out(company)
    if entity == "opportunity":
        from tradecrm.sales.api import opportunity_out
        from tradecrm.sales.models import Opportunity

        opp = Opportunity.objects.select_related("company", "owner", "stage").filter(pk=object_id).first()
        return None if opp is None else opportunity_out(opp, history=False)
    if entity == "order":
        from tradecrm.orders.api import order_out
        from tradecrm.orders.models import Order

        order = Order.objects.select_related("company", "owner").filter(pk=object_id).first()
        return None if order is None else order_out(request, order)
    if entity == "payment":
        from tradecrm.orders.api import payment_out
        from tradecrm.orders.models import Payment

        payment = Payment.objects.select_related("order", "company").filter(pk=object_id).first()
        return None if payment is None else payment_out(payment)
    return None


def event_payload(event: str, data: dict, occurred_at: dt.datetime, event_id: str | None = None) -> dict:
    # through JSON once, so what is stored is exactly what is sent (dates as ISO text, money as text)
    return orjson.loads(dumps({"id": event_id or str(uuid.uuid4()), "event": event,
                               "occurred_at": occurred_at, "data": data}))  # fmt: skip


def queue_event(event: str, *, entity: str = "", object_id: int | None = None, occurred_at=None,
                data: dict | None = None) -> None:  # fmt: skip
    """After the current transaction commits: one delivery per active endpoint subscribed to `event`
    (the object serialized then, so the receiver gets what was committed). Failing here never
    breaks the caller's save."""
    occurred_at = occurred_at or timezone.now()

    def _after_commit() -> None:
        try:
            create_deliveries(event, entity=entity, object_id=object_id, occurred_at=occurred_at, data=data)
        except Exception:
            log.exception("webhook event %s for %s %s not queued", event, entity, object_id)

    transaction.on_commit(_after_commit)


def create_deliveries(event: str, *, entity: str = "", object_id: int | None = None, occurred_at=None,
                      data: dict | None = None) -> list[int]:  # fmt: skip
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(active=True).only("id", "events") if event in e.events
    ]
    if not endpoints:
        return []
    if data is None:
        data = serialize(entity, object_id) if object_id is not None else {}
        if data is None:  # created and gone again before anyone could be told
            return []
    payload = event_payload(event, data, occurred_at or timezone.now())
    now = timezone.now()
    rows = [
        WebhookDelivery(endpoint_id=e.pk, event=event, payload=payload, next_attempt_at=now)
        for e in endpoints
    ]
    with transaction.atomic():
        for row in rows:
            row.save()
    ids = [r.pk for r in rows]
    _enqueue(ids)
    return ids


def _enqueue(ids: list[int]) -> None:
    from .tasks import webhook_deliver

    def send() -> None:
        for pk in ids:
            try:
                webhook_deliver(pk)
            except Exception:  # the periodic task picks it up
                log.exception("webhook delivery %s not enqueued", pk)

    transaction.on_commit(send)


# --- deliveries -------------------------------------------------------------------------------------


def delivery_attempt(delivery_id: int) -> WebhookDelivery | None:
    """Send one due delivery and record the outcome; None when it is not due (sent, given up,
    its endpoint off, or another worker holds it)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING), next_attempt_at__lte=now,
        endpoint__active=True,
    ).update(next_attempt_at=now + LEASE)  # fmt: skip
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    result = webhook_call(endpoint.url, delivery.payload, secret=endpoint.secret, event=delivery.event,
                          delivery_id=str(delivery.uuid), timeout=getattr(settings, "TRADECRM_WEBHOOK_TIMEOUT", 10))  # fmt: skip
    return record_attempt(delivery, result)


@transaction.atomic
def record_attempt(delivery: WebhookDelivery, result: CallResult) -> WebhookDelivery:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = result.status
    delivery.response_excerpt = result.body[:EXCERPT]
    delivery.error = result.error[:500]
    delivery.duration_ms = result.duration_ms
    endpoint = delivery.endpoint
    if result.ok:
        delivery.status = DeliveryStatus.SUCCESS
        delivery.next_attempt_at = None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(consecutive_failures=0).update(
            consecutive_failures=0
        )
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + dt.timedelta(seconds=BACKOFF[delivery.attempts - 1])
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        failures = (
            WebhookEndpoint.objects.filter(pk=endpoint.pk)
            .values_list("consecutive_failures", flat=True)
            .first()
        )
        if failures is not None and failures >= disable_after():
            _disable(endpoint, failures, result)
    delivery.save()
    return delivery


def _disable(endpoint: WebhookEndpoint, failures: int, result: CallResult) -> None:
    from tradecrm.accounts.models import Role, User
    from tradecrm.followups.notifications import notify

    reason = (f"HTTP {result.status}" if result.status else result.error)[:200]
    switched = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=timezone.now(), disabled_reason=reason, version=F("version") + 1
    )
    if not switched:
        return
    audit_record(
        actor=None, action="webhook.disable", obj=endpoint, changes={"failures": failures, "reason": reason}
    )
    url = reverse("integrations:endpoint_detail", args=[endpoint.pk])
    admins = User.objects.filter(is_active=True).filter(role=Role.ADMIN) | User.objects.filter(
        is_active=True, is_superuser=True
    )
    for admin in admins.distinct():
        notify(admin, "webhook_disabled", {"name": endpoint.name, "failures": failures, "reason": reason},
               url=url, key=f"webhook-disabled:{endpoint.pk}:{endpoint.version}")  # fmt: skip
    _forget_subscriptions()


def due_delivery_ids(limit: int = 200) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING), next_attempt_at__lte=timezone.now(),
            endpoint__active=True,
        ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]
    )  # fmt: skip


@transaction.atomic
def delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event (same payload and event id) again as a new delivery, tried at once."""
    _check_admin(actor)
    copy = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id, event=delivery.event, payload=delivery.payload,
        next_attempt_at=timezone.now(), redelivery_of=delivery,
    )  # fmt: skip
    audit_record(actor=actor, action="webhook.redeliver", obj=copy, changes={"of": delivery.pk})
    _enqueue([copy.pk])
    return copy


# --- loaders (administrators only; others get 404 as if missing) -----------------------------------


def endpoint_get_for_user(user, endpoint_id) -> WebhookEndpoint:
    pk = parse_id(endpoint_id)
    if pk is None or not can_manage(user):
        raise Http404
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


def delivery_get_for_user(user, delivery_id) -> WebhookDelivery:
    pk = parse_id(delivery_id)
    if pk is None or not can_manage(user):
        raise Http404
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=pk).first()
    if delivery is None:
        raise Http404
    return delivery


# --- idempotency ------------------------------------------------------------------------------------


class IdempotencyConflict(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def request_hash(body: dict) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def check_idempotency_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise ValidationError({"Idempotency-Key": [
            _("Send an Idempotency-Key header (e.g. your ERP's document id or a UUID); a retry with the same "
              "key and body gets the first answer again.")]})  # fmt: skip
    if len(key) > 255 or not key.isprintable() or not key.isascii():
        raise ValidationError(
            {"Idempotency-Key": [_("The Idempotency-Key must be at most 255 printable ASCII characters.")]}
        )
    return key


def idempotent(*, user, scope: str, key: str, body: dict, run) -> tuple[int, dict, bool]:
    """(status, response, replayed). `run()` returns (status, JSON-able response) and is called at
    most once per (user, scope, key) within IDEMPOTENCY_DAYS; the same key with another body raises
    IdempotencyConflict. A refused request (an exception in `run`) stores nothing, so it can be
    corrected and sent again with the same key."""
    digest = request_hash(body)
    since = timezone.now() - dt.timedelta(days=IDEMPOTENCY_DAYS)
    with transaction.atomic():
        row = IdempotencyKey.objects.select_for_update().filter(user=user, scope=scope, key=key).first()
        if row is not None and row.created_at < since:
            row.delete()
            row = None
        if row is not None:
            if row.request_hash != digest:
                raise IdempotencyConflict(
                    _("The Idempotency-Key “%(key)s” was used on %(date)s for a different request; "
                      "use a new key for a new request.") % {"key": key, "date": row.created_at.date().isoformat()}
                )  # fmt: skip
            return row.status_code, row.response, True
        status, response = run()
        response = orjson.loads(dumps(response))
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(user=user, scope=scope, key=key, request_hash=digest,
                                              status_code=status, response=response)  # fmt: skip
        except IntegrityError:
            # the same key is being used by a request running at this moment: undo this one
            raise IdempotencyConflict(
                _("A request with the Idempotency-Key “%(key)s” is being processed; retry in a moment.")
                % {"key": key}
            ) from None
    return status, response, False


def idempotency_purge() -> int:
    cut = timezone.now() - dt.timedelta(days=IDEMPOTENCY_DAYS)
    return IdempotencyKey.objects.filter(created_at__lt=cut).delete()[0]


# --- ERP customer codes -----------------------------------------------------------------------------


def company_for_code(user, code: str, system: str = "erp"):
    """The visible customer the ERP calls `code`, or None."""
    from tradecrm.customers.selectors import company_get_for_user

    ref = ExternalRef.objects.filter(system=system, code=code).first()
    if ref is None:
        return None
    try:
        return company_get_for_user(user, ref.company_id)
    except Http404:
        return None


@transaction.atomic
def external_code_set(*, actor, company, code: str, system: str = "erp") -> ExternalRef:
    """Map the ERP's `code` to `company` (a customer the actor sees). A code already given to
    another customer is refused."""
    code = str(code or "").strip()
    if not code or len(code) > 128:
        raise ValidationError(
            {"customer_code": [_("Enter the ERP's customer code (at most 128 characters).")]}
        )
    ref = ExternalRef.objects.select_for_update().filter(system=system, code=code).first()
    if ref is not None:
        if ref.company_id != company.pk:
            raise ValidationError({"customer_code": [
                _("The ERP code “%(code)s” belongs to another customer (id %(id)s).") % {"code": code, "id": ref.company_id}
            ]})  # fmt: skip
        return ref
    ref = ExternalRef.objects.create(system=system, code=code, company=company,
                                     created_by=actor if getattr(actor, "pk", None) else None)  # fmt: skip
    audit_record(
        actor=actor, action="external_ref.create", obj=ref, changes={"code": code, "company": company.pk}
    )
    return ref


@transaction.atomic
def external_code_delete(*, actor, ref: ExternalRef) -> None:
    audit_record(actor=actor, action="external_ref.delete", obj=ref, changes={"code": ref.code})
    ref.delete()


# --- import hook ------------------------------------------------------------------------------------


def import_completed_data(job_id: int) -> dict | None:
    from tradecrm.imports.models import ImportJob

    row = (
        ImportJob.objects.filter(pk=job_id)
        .values(
            "id",
            "status",
            "rows_read",
            "created",
            "updated",
            "merged",
            "rejected",
            "unchanged",
            "finished_at",
        )
        .first()
    )
    return row


def queue_import_completed(job_id: int, occurred_at=None) -> None:
    data = import_completed_data(job_id)
    if data is not None:
        queue_event(IMPORT_COMPLETED, occurred_at=occurred_at, data=data)


# --- business-card capture --------------------------------------------------------------------------


@dataclass
class Captured:
    company: Any
    contact: Any
    interaction: Any
    created: bool  # False: the card was added to a customer the duplicate check found


def _has_cjk(text: str) -> bool:
    return any(
        "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\u3040" <= ch <= "\u30ff" for ch in text
    )


def _split_name(name: str) -> dict:
    if not name:
        return {}
    if _has_cjk(name):
        return {"name_local": name}
    first, _sep, last = name.rpartition(" ")
    return {"first_name": first, "last_name": last} if first else {"first_name": last}


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    return ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})


@transaction.atomic
def card_capture(*, actor, data: dict, photo=None) -> Captured:
    """A business card typed at a trade show: a new customer (source: trade show) with the person as
    its contact, or, when the duplicate check finds the company among the customers the actor sees,
    the person added to it. A trade-show interaction records the meeting with the card's photo
    attached. Nothing is saved when any field is wrong. (No OCR: the fields are typed.)"""
    from tradecrm.core.uploads import check_upload
    from tradecrm.customers.models import Company, Contact
    from tradecrm.customers.services import company_create, contact_create
    from tradecrm.dedup.selectors import check_company, likely_duplicates, policy_for
    from tradecrm.interactions.services import interaction_create

    text = {k: " ".join(str(data.get(k) or "").split()) for k in ("name", "company", "title", "email", "phone",
                                                                   "country", "show")}  # fmt: skip
    note = str(data.get("note") or "").strip()
    errors = Errors()
    if not text["name"] and not text["company"]:
        errors.add("name", _("Enter the person's name or the company's name."))
    if photo is not None:
        try:
            meta = check_upload(photo)
        except ValidationError as exc:
            errors.by_field.setdefault("photo", []).extend(
                _renamed(exc, {"file": "photo"}).message_dict["photo"]
            )
        else:
            if not meta["content_type"].startswith("image/"):
                errors.add("photo", _("“%(name)s” is not a photo (it is %(type)s).")
                           % {"name": meta["name"], "type": meta["content_type"]})  # fmt: skip
    errors.raise_if_any()

    company_name = text["company"] or text["name"]
    values = {"name": company_name, "country": text["country"], "email": text["email"],
              "phones": [text["phone"]] if text["phone"] else []}  # fmt: skip
    found = likely_duplicates(check_company(actor, values, limit=5))
    mine = [c for c in found if c["visible"]]
    if mine:
        company = Company.objects.get(pk=mine[0]["id"])
        created = False
    else:
        if found and policy_for("form") == "block":
            raise ValidationError({"company": [
                _("“%(name)s” is already in the archive (owner: %(owner)s); ask them or a manager to share it.")
                % {"name": found[0]["name"], "owner": found[0]["owner"] or _("public pool")}
            ]})  # fmt: skip
        company_data = {"name": company_name, "country": text["country"], "source": "trade_show",
                        "source_detail": text["show"]}  # fmt: skip
        try:
            company = company_create(actor=actor, data=company_data)
        except ValidationError as exc:
            raise _renamed(exc, {"name": "company", "source_detail": "show"}) from None
        created = True

    contact = None
    if text["name"] or text["email"] or text["phone"]:
        person = _split_name(text["name"]) or {"first_name": text["email"].split("@")[0] or text["phone"]}
        contact_data = {**person, "title": text["title"], "emails": [text["email"]] if text["email"] else [],
                        "phones": [text["phone"]] if text["phone"] else []}  # fmt: skip
        existing = None
        if not created and text["email"]:
            existing = Contact.objects.filter(company=company, email__iexact=text["email"]).first()
        if existing is not None:
            contact = existing
        else:
            try:
                contact = contact_create(actor=actor, company=company, data=contact_data)
            except ValidationError as exc:
                raise _renamed(exc, {"emails": "email", "phones": "phone", "first_name": "name",
                                     "name_local": "name", "last_name": "name"}) from None  # fmt: skip

    who = text["name"] or company_name
    subject = (_("Business card: %(who)s at %(show)s") % {"who": who, "show": text["show"]} if text["show"]
               else _("Business card: %(who)s") % {"who": who})  # fmt: skip
    interaction = interaction_create(
        actor=actor, company=company,
        data={"type": "trade_show", "occurred_at": timezone.now(), "subject": subject[:255], "body": note,
              "body_format": "text", "contact": contact.pk if contact else None},
        files=[photo] if photo is not None else [],
    )  # fmt: skip
    return Captured(company=company, contact=contact, interaction=interaction, created=created)
