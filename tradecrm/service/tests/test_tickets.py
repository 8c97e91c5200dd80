"""Tickets: creation with SLA due times, the status workflow, validation, the overdue scan."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.service import services
from tradecrm.service.models import Ticket, TicketBreach, TicketEvent

from .conftest import NOW


def test_create_sets_number_due_times_owner_and_timeline(ticket, alice):
    from tradecrm.audit.models import AuditEvent

    t = ticket(severity="critical")
    assert t.number == f"TK-2026-{t.pk:05d}"
    assert t.status == "open"
    assert t.owner == alice  # the customer's owner
    assert t.first_response_due == NOW + dt.timedelta(hours=4)
    assert t.resolution_due == NOW + dt.timedelta(hours=48)
    assert list(t.events.values_list("kind", flat=True)) == ["created"]
    assert AuditEvent.objects.filter(action="ticket.create", object_id=t.pk).exists()


def test_create_names_every_bad_field_and_saves_nothing(company, alice):
    with pytest.raises(ValidationError) as exc:
        services.ticket_create(actor=alice, company=company(), data={
            "title": " ", "kind": "broken", "severity": "urgent", "compensation_amount": "12x",
            "discount_percent": "120", "owner": 999999})  # fmt: skip
    errors = exc.value.message_dict
    assert set(errors) == {"title", "kind", "severity", "compensation_amount", "discount_percent", "owner"}
    assert "quality" in errors["kind"][0]
    assert Ticket.objects.count() == 0


def test_compensation_needs_a_real_currency(ticket, alice):
    t = ticket()
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(actor=alice, ticket=t, version=t.version, data={"compensation_amount": "100"})
    assert "compensation_currency" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(actor=alice, ticket=t, version=t.version,
                               data={"compensation_amount": "100", "compensation_currency": "XYZ"})  # fmt: skip
    assert "XYZ" in exc.value.message_dict["compensation_currency"][0]
    t = services.ticket_update(actor=alice, ticket=t, version=t.version,
                               data={"compensation_amount": "100.456", "compensation_currency": "usd",
                                     "replacement": True, "discount_percent": "5"})  # fmt: skip
    assert (t.compensation_amount, t.compensation_currency) == (Decimal("100.46"), "USD")
    assert t.replacement and t.discount_percent == 5


def test_order_of_another_customer_is_refused(ticket, company, order, alice):
    other = order(company())
    with pytest.raises(ValidationError) as exc:
        ticket(order=other.pk)
    assert "not an order of this customer" in exc.value.message_dict["order"][0]


def test_order_line_gives_product_and_supplier(company, order, alice):
    from tradecrm.catalog.models import Product
    from tradecrm.orders.models import OrderLine

    c = company()
    o = order(c)
    p = Product.objects.create(sku="VF-1", name_en="Valve", supplier="Ningbo Valve Works")
    line = OrderLine.objects.create(order=o, product=p, name="Valve", quantity=10, unit_price=2)
    t = services.ticket_create(actor=alice, company=c, data={"title": "Leaks", "kind": "quality", "order": o.pk,
                                                             "order_line": line.pk})  # fmt: skip
    assert (t.order_id, t.order_line_id, t.product_id, t.supplier) == (
        o.pk,
        line.pk,
        p.pk,
        "Ningbo Valve Works",
    )
    with pytest.raises(ValidationError) as exc:
        services.ticket_create(
            actor=alice, company=c, data={"title": "x", "kind": "quality", "order_line": line.pk}
        )
    assert "order_line" in exc.value.message_dict


def test_workflow_enforced(ticket, alice):
    t = ticket()
    with pytest.raises(ValidationError) as exc:
        services.ticket_set_status(actor=alice, ticket=t, status="open")
    assert "already" in exc.value.message_dict["status"][0]
    t = services.ticket_set_status(actor=alice, ticket=t, status="investigating")
    assert t.first_response_at == NOW  # the first move counts as the first response
    with pytest.raises(ValidationError) as exc:
        services.ticket_set_status(actor=alice, ticket=t, status="proposed")
    assert "solution" in exc.value.message_dict
    t = services.ticket_set_status(actor=alice, ticket=t, status="proposed", data={"solution": "Credit note"})
    with pytest.raises(ValidationError) as exc:
        services.ticket_set_status(actor=alice, ticket=t, status="resolved")
    assert "root_cause" in exc.value.message_dict
    t.refresh_from_db()
    assert t.status == "proposed"  # nothing half-saved
    t = services.ticket_set_status(actor=alice, ticket=t, status="resolved", data={"root_cause": "packaging"})
    assert t.resolved_at == NOW
    t = services.ticket_set_status(actor=alice, ticket=t, status="closed", note="Customer agreed")
    with pytest.raises(ValidationError) as exc:
        services.ticket_set_status(actor=alice, ticket=t, status="investigating")
    assert "cannot become" in exc.value.message_dict["status"][0]
    kinds = list(TicketEvent.objects.filter(ticket=t).values_list("kind", "to_status"))
    assert kinds == [("created", "open"), ("status", "investigating"), ("status", "proposed"),
                     ("status", "resolved"), ("status", "closed")]  # fmt: skip


def test_feedback_resolves_without_root_cause_and_stale_version_is_refused(ticket, alice):
    from tradecrm.core.errors import ConcurrentEditError

    t = ticket(category="feedback")
    t = services.ticket_set_status(actor=alice, ticket=t, status="resolved")
    with pytest.raises(ConcurrentEditError):
        services.ticket_set_status(actor=alice, ticket=t, status="closed", version=t.version - 1)


def test_severity_change_recomputes_due_times(ticket, alice):
    t = ticket(severity="low")
    assert t.resolution_due == NOW + dt.timedelta(hours=480)
    t = services.ticket_update(actor=alice, ticket=t, version=t.version, data={"severity": "high"})
    assert t.first_response_due == NOW + dt.timedelta(hours=8)
    assert t.resolution_due == NOW + dt.timedelta(hours=120)


def test_comment_is_the_first_response(ticket, alice):
    t = ticket()
    with pytest.raises(ValidationError):
        services.ticket_comment(actor=alice, ticket=t, text="  ")
    services.ticket_comment(actor=alice, ticket=t, text="Asked for photos")
    t.refresh_from_db()
    assert t.first_response_at == NOW


def test_sla_settings_admin_only_and_used_for_new_tickets(ticket, alice, admin):
    with pytest.raises(PermissionDenied):
        services.sla_update(actor=alice, data={"high": {"first_response_hours": 1, "resolution_hours": 2}})
    with pytest.raises(ValidationError) as exc:
        services.sla_update(actor=admin, data={"high": {"first_response_hours": 5, "resolution_hours": 2},
                                               "urgent": {}})  # fmt: skip
    assert set(exc.value.message_dict) == {"high.resolution_hours", "urgent"}
    services.sla_update(actor=admin, data={"high": {"first_response_hours": 2, "resolution_hours": 10}})
    t = ticket(severity="high")
    assert t.resolution_due == NOW + dt.timedelta(hours=10)


def test_overdue_scan_alerts_owner_and_manager_once(ticket, alice, carol, frozen, emitted):
    from tradecrm.followups.models import Notification
    from tradecrm.followups.notifications import render

    t = ticket(severity="critical")  # response due in 4 h, resolution in 48 h
    assert services.ticket_scan_overdue()["breaches"] == 0
    frozen.shift(dt.timedelta(hours=5))
    result = services.ticket_scan_overdue()
    assert result["breaches"] == 1 and result["alerts"] == 2
    notes = {n.user_id: n for n in Notification.objects.all()}
    assert set(notes) == {alice.pk, carol.pk}
    assert "missed its first response" in render(notes[alice.pk])
    assert "of Alice" in render(notes[carol.pk])
    assert emitted == [("ticket.sla_breached", "ticket", t.pk, emitted[0][3])]
    assert services.ticket_scan_overdue()["breaches"] == 0  # once per breach
    assert Notification.objects.count() == 2
    frozen.shift(dt.timedelta(hours=48))
    assert services.ticket_scan_overdue()["breaches"] == 1  # now the resolution is late too
    assert TicketBreach.objects.filter(ticket=t).count() == 2
    assert Notification.objects.count() == 4


def test_scan_ignores_resolved_and_answered_tickets(ticket, alice, frozen):
    a = ticket(severity="critical")
    b = ticket(severity="critical")
    services.ticket_comment(actor=alice, ticket=a, text="On it")
    services.ticket_set_status(actor=alice, ticket=b, status="resolved", data={"root_cause": "logistics"})
    frozen.shift(dt.timedelta(hours=5))
    assert services.ticket_scan_overdue() == {"checked": 0, "breaches": 0, "alerts": 0}


def test_task_runs_the_scan(ticket, frozen):
    from tradecrm.service.tasks import ticket_scan_overdue

    ticket(severity="critical")
    frozen.shift(dt.timedelta(hours=5))
    assert ticket_scan_overdue.call_local()["breaches"] == 1


def test_lists_filter_by_status_severity_overdue_and_owner(ticket, alice, bob, dave, company, frozen):
    from tradecrm.service import selectors

    a = ticket(severity="critical")
    b = ticket(severity="low", owner=bob.pk)
    ticket(actor=dave, co=company(owner=dave))
    frozen.shift(dt.timedelta(hours=5))
    ids = lambda rows: {r["id"] for r in rows}  # noqa: E731
    assert ids(selectors.ticket_list(alice)[0]) == {a.pk, b.pk}  # not dave's customer
    assert ids(selectors.ticket_list(alice, selectors.TicketFilters(overdue=True))[0]) == {a.pk}
    assert ids(selectors.ticket_list(alice, selectors.TicketFilters(severity="low"))[0]) == {b.pk}
    assert ids(selectors.ticket_list(alice, selectors.TicketFilters(owner=bob.pk))[0]) == {b.pk}
    assert ids(selectors.ticket_list(alice, selectors.TicketFilters(status="resolved"))[0]) == set()


def test_owner_sees_a_ticket_of_a_customer_they_do_not_see(ticket, company, dave, alice):
    from tradecrm.service.selectors import ticket_get_for_user

    t = ticket(co=company(owner=alice), owner=dave.pk)
    assert ticket_get_for_user(dave, t.pk) == t


def test_causes_report_by_product_and_supplier(ticket, alice, dave, company):
    from tradecrm.catalog.models import Product
    from tradecrm.service.selectors import causes_report

    p = Product.objects.create(sku="VF-1", name_en="Valve", supplier="Ningbo")
    for _ in range(2):
        t = ticket(product=p.pk)
        services.ticket_update(actor=alice, ticket=t, version=t.version,
                               data={"root_cause": "supplier", "compensation_amount": "50",
                                     "compensation_currency": "USD"})  # fmt: skip
    ticket(actor=dave, co=company(owner=dave), product=p.pk)  # not alice's
    rows = causes_report(alice)
    assert [(r["root_cause"], r["product_id"], r["tickets"]) for r in rows] == [("supplier", p.pk, 2)]
    assert rows[0]["compensation"] == [{"currency": "USD", "amount": Decimal("100.00")}]
    assert causes_report(alice, by="supplier")[0]["supplier"] == "Ningbo"
