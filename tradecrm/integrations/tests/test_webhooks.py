"""Outgoing webhooks against a real receiver on 127.0.0.1: signature, retries with back-off,
giving up, switching a failing endpoint off, events from the services, the cheap no-listener path."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradecrm.audit.models import AuditEvent
from tradecrm.followups.models import Notification
from tradecrm.integrations import services, signals
from tradecrm.integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tradecrm.integrations.tasks import webhook_deliver, webhook_deliver_due

from .conftest import NOW

pytestmark = pytest.mark.django_db


def _company_event(endpoint, django_capture_on_commit_callbacks, make_company, **data):
    with django_capture_on_commit_callbacks(execute=True):
        company = make_company(**data)
    return company, WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id").last()


def test_webhook_call_signs_the_body_with_timestamp(receiver, frozen):
    result = services.webhook_call(receiver.url, {"hello": "世界"}, secret="s" * 20, event="test.ping",
                                   delivery_id="abc")  # fmt: skip
    assert result.ok and result.status == 200 and '"ok"' in result.body
    got = receiver.requests[-1]
    h = {k.lower(): v for k, v in got["headers"].items()}
    assert h["x-tradecrm-event"] == "test.ping" and h["x-tradecrm-delivery"] == "abc"
    assert h["x-tradecrm-timestamp"] == str(int(NOW.timestamp()))
    assert h["x-tradecrm-signature"].startswith("sha256=")
    assert services.verify("s" * 20, h["x-tradecrm-timestamp"], got["body"], h["x-tradecrm-signature"])
    # a changed body, another secret or an old timestamp do not verify
    assert not services.verify(
        "s" * 20, h["x-tradecrm-timestamp"], got["body"] + b" ", h["x-tradecrm-signature"]
    )
    assert not services.verify("t" * 20, h["x-tradecrm-timestamp"], got["body"], h["x-tradecrm-signature"])
    later = NOW + dt.timedelta(minutes=10)
    assert not services.verify(
        "s" * 20, h["x-tradecrm-timestamp"], got["body"], h["x-tradecrm-signature"], now=later
    )
    assert json.loads(got["body"]) == {"hello": "世界"}


def test_webhook_call_reports_failures_without_raising(receiver):
    receiver.fail = 1
    result = services.webhook_call(receiver.url, {"a": 1})
    assert not result.ok and result.status == 500 and "busy" in result.body
    assert "x-tradecrm-signature" not in {k.lower() for k in receiver.requests[-1]["headers"]}
    # nothing listening on that port
    closed = services.webhook_call("http://127.0.0.1:9/none", {"a": 1}, timeout=2)
    assert not closed.ok and closed.status is None and closed.error
    assert services.webhook_call("ftp://example.com/x", {}).error


def test_company_created_is_delivered_signed(endpoint, receiver, make_company, django_capture_on_commit_callbacks,
                                             frozen):  # fmt: skip
    company, delivery = _company_event(endpoint, django_capture_on_commit_callbacks, make_company, name="Globex GmbH",
                                       country="DE")  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.event == "company.created" and delivery.status == DeliveryStatus.SUCCESS
    assert delivery.attempts == 1 and delivery.response_code == 200
    body = receiver.json()
    assert body["event"] == "company.created" and body["data"]["id"] == company.pk
    assert body["data"]["name"] == "Globex GmbH" and body["data"]["country"] == "DE"
    assert body["occurred_at"].startswith("2026-03-04T02:00")
    assert body["id"] == delivery.payload["id"]
    h = {k.lower(): v for k, v in receiver.requests[-1]["headers"].items()}
    assert h["x-tradecrm-delivery"] == str(delivery.uuid)
    assert services.verify(endpoint.secret, h["x-tradecrm-timestamp"], receiver.requests[-1]["body"],
                           h["x-tradecrm-signature"])  # fmt: skip


def test_failing_receiver_is_retried_with_back_off(endpoint, receiver, make_company, frozen,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    receiver.fail = 2
    _company, delivery = _company_event(endpoint, django_capture_on_commit_callbacks, make_company)
    delivery.refresh_from_db()
    assert (
        delivery.status == DeliveryStatus.RETRYING
        and delivery.attempts == 1
        and delivery.response_code == 500
    )
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1)
    # not due yet: the periodic scan leaves it alone
    webhook_deliver_due.call_local()
    assert len(receiver.requests) == 1
    frozen.shift(dt.timedelta(seconds=60))
    webhook_deliver_due.call_local()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == DeliveryStatus.RETRYING
    assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=60 + 300)
    frozen.shift(dt.timedelta(seconds=300))
    webhook_deliver_due.call_local()
    delivery.refresh_from_db()
    assert (
        delivery.status == DeliveryStatus.SUCCESS
        and delivery.attempts == 3
        and delivery.next_attempt_at is None
    )
    # the same event (same id, same delivery header) each time
    assert (
        len(
            {
                {k.lower(): v for k, v in r["headers"].items()}["x-tradecrm-delivery"]
                for r in receiver.requests
            }
        )
        == 1
    )
    assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.active


def test_gives_up_after_six_attempts_and_switches_the_endpoint_off(
    endpoint, receiver, admin, settings, frozen
):
    settings.TRADECRM_WEBHOOK_DISABLE_AFTER = 6
    receiver.fail = 100
    [pk] = services.create_deliveries("company.created", data={"id": 1}, occurred_at=NOW)
    waits = []
    for _ in range(6):
        d = WebhookDelivery.objects.get(pk=pk)
        if d.next_attempt_at and d.attempts:
            waits.append(int((d.next_attempt_at - d.last_attempt_at).total_seconds()))
            frozen.move_to(d.next_attempt_at)
        webhook_deliver.call_local(pk)
    d = WebhookDelivery.objects.get(pk=pk)
    assert waits == [60, 300, 1800, 7200, 43200]
    assert d.status == DeliveryStatus.FAILED and d.attempts == 6 and d.next_attempt_at is None
    endpoint.refresh_from_db()
    assert (
        not endpoint.active and endpoint.disabled_reason == "HTTP 500" and endpoint.consecutive_failures == 6
    )
    note = Notification.objects.get(user=admin, kind="webhook_disabled")
    assert "ERP" in note.params["name"]
    assert AuditEvent.objects.filter(action="webhook.disable", object_id=endpoint.pk).exists()
    # switched off: new events are not queued for it, waiting ones are not sent
    assert services.create_deliveries("company.created", data={"id": 2}) == []
    # switched on again by an admin: the count starts over
    services.endpoint_update(actor=admin, endpoint=endpoint, version=endpoint.version, data={"active": True})
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0 and not endpoint.disabled_reason


def test_a_second_worker_does_not_send_a_claimed_delivery(endpoint, receiver, frozen):
    [pk] = services.create_deliveries("company.created", data={"id": 1}, occurred_at=NOW)
    WebhookDelivery.objects.filter(pk=pk).update(
        next_attempt_at=NOW + services.LEASE
    )  # held by another worker
    assert services.delivery_attempt(pk) is None
    assert receiver.requests == []


def test_update_and_delete_events_from_the_services(endpoint, receiver, make_company, alice, frozen,
                                                     django_capture_on_commit_callbacks):  # fmt: skip
    from tradecrm.customers.services import company_delete, company_update

    company, _d = _company_event(endpoint, django_capture_on_commit_callbacks, make_company)
    with django_capture_on_commit_callbacks(execute=True):
        company = company_update(
            actor=alice, company=company, version=company.version, data={"city": "Boston"}
        )
    assert receiver.json()["event"] == "company.updated" and receiver.json()["data"]["city"] == "Boston"
    pk = company.pk
    with django_capture_on_commit_callbacks(execute=True):
        company_delete(actor=alice, company=company)
    body = receiver.json()
    assert body["event"] == "company.deleted" and body["data"]["id"] == pk and body["data"]["deleted"] is True
    assert list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True)) == [
        "company.created", "company.updated", "company.deleted"]  # fmt: skip


def test_order_and_payment_events(endpoint, receiver, make_company, alice, frozen,
                                  django_capture_on_commit_callbacks):  # fmt: skip
    from tradecrm.orders.services import order_create, payment_record

    company = make_company()
    with django_capture_on_commit_callbacks(execute=True):
        order = order_create(actor=alice, data={"company": company.pk, "currency": "USD", "lines": [
            {"name": "Mug", "quantity": "100", "unit_price": "2.5"}]})  # fmt: skip
    body = receiver.json()
    assert body["event"] == "order.created" and body["data"]["number"] == order.number
    assert body["data"]["total_amount"] == "250.00" and body["data"]["lines"][0]["name"] == "Mug"
    assert body["data"]["total_cost_cny"] is None  # costs stay inside
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(actor=alice, order=order, amount="100", currency="USD", received_on="2026-03-04")
    body = receiver.json()
    assert body["event"] == "payment.created" and body["data"]["amount"] == "100.00"


def test_unsubscribed_events_make_no_delivery(
    admin, receiver, make_company, django_capture_on_commit_callbacks
):
    services.endpoint_create(
        actor=admin, data={"name": "Orders only", "url": receiver.url, "events": ["order.created"]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        make_company()
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_no_listener_costs_no_query_per_save(db):
    event = AuditEvent(action="company.update", object_type="customers.company", object_id=1)
    services.subscribed_events()  # the first look fills the cache
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(100):
            signals.on_audit_event(AuditEvent, instance=event, created=True)
    assert len(ctx.captured_queries) == 0


def test_event_names_from_audit_actions():
    assert signals.event_for("company.create", "customers.company") == ("company.created", "company")
    assert signals.event_for("pool.claim", "customers.company") == ("company.updated", "company")
    assert signals.event_for("company.merged_into", "customers.company") == ("company.deleted", "company")
    assert signals.event_for("order.status", "orders.order") == ("order.updated", "order")
    assert signals.event_for("payment.delete", "orders.payment") == ("payment.deleted", "payment")
    assert signals.event_for("opportunity.move", "sales.opportunity") == (
        "opportunity.updated",
        "opportunity",
    )
    assert signals.event_for("import.run", "imports.importjob") == ("import.completed", "import")
    assert signals.event_for("tag.create", "customers.tag") is None


def test_a_finished_import_sends_one_event(endpoint, receiver, alice, django_capture_on_commit_callbacks):
    from tradecrm.audit.services import audit_record
    from tradecrm.imports.models import ImportJob

    job = ImportJob.objects.create(entity="companies", source="file", filename="fair.xlsx", status="done",
                                   rows_read=1200, created=1100, updated=90, rejected=10)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=alice, action="import.run", obj=job, changes={})
    body = receiver.json()
    assert body["event"] == "import.completed"
    assert body["data"]["id"] == job.pk and body["data"]["created"] == 1100 and body["data"]["rejected"] == 10


def test_endpoint_validation_names_the_field(admin, alice):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError) as exc:
        services.endpoint_create(
            actor=admin, data={"name": "", "url": "ftp://x", "events": ["company.exploded"]}
        )
    assert set(exc.value.message_dict) == {"name", "url", "events"}
    assert "company.exploded" in exc.value.message_dict["events"][0]
    with pytest.raises(ValidationError) as exc:
        services.endpoint_create(actor=admin, data={"name": "x", "url": "https://x.example", "events": ["order.created"],
                                                    "secret": "short"})  # fmt: skip
    assert "secret" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.endpoint_create(
            actor=alice, data={"name": "x", "url": "https://x.example", "events": ["order.created"]}
        )
    assert not WebhookEndpoint.objects.exists()
