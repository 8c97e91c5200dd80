"""The rule index gives the same first match as trying every rule; the events other apps emit
(order status, the nightly grading run's tier changes in bulk, mail received); the margin floor;
approvals shown on the record's page; asking a manager for a pool claim above the quota."""

import random
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tradecrm.automation import events
from tradecrm.automation.conditions import RuleIndex, compile_predicate, fields_for
from tradecrm.automation.models import Approval, RuleRun

# --- the index -----------------------------------------------------------------------------------

COUNTRIES = ["DE", "FR", "US", "GB", "JP", "", None, 7]
SOURCES = ["trade_show", "customs", "website", ""]
LANGS = ["ja", "de", "en", ""]


def _leaf(r: random.Random) -> dict:
    kind = r.randrange(7)
    if kind == 0:
        return {"field": "country", "op": "eq", "value": r.choice(COUNTRIES[:5])}
    if kind == 1:
        return {"field": "country", "op": "in", "value": r.sample(COUNTRIES[:5], r.randrange(1, 3))}
    if kind == 2:
        return {"field": "source", "op": "eq", "value": r.choice(SOURCES[:3])}
    if kind == 3:
        return {"field": "hs_codes", "op": "startswith", "value": r.choice(["84", "8471", "94", "9"])}
    if kind == 4:
        return {"field": "city", "op": "startswith", "value": r.choice(["Ber", "pa", "Zz"])}
    if kind == 5:
        return {"field": "main_products", "op": "contains", "value": r.choice(["led", "lamp"])}
    return {"field": "preferred_language", "op": "ne", "value": r.choice(LANGS[:3])}


def _tree(r: random.Random, depth: int = 0) -> dict:
    if depth > 1 or r.random() < 0.3:
        return _leaf(r) if r.random() < 0.9 else {}
    key = "all" if r.random() < 0.6 else "any"
    return {key: [_tree(r, depth + 1) for _ in range(r.randrange(0, 4))]}


def _record(r: random.Random) -> dict:
    return {"country": r.choice(COUNTRIES), "source": r.choice(SOURCES), "preferred_language": r.choice(LANGS),
            "hs_codes": r.sample(["847130", "940540", "9999", "8501"], r.randrange(0, 3)),
            "city": r.choice(["Berlin", "Paris", "PARIS", "zzja", None]),
            "main_products": r.choice(["LED lamps", "tables", ""])}  # fmt: skip


def test_index_finds_the_same_first_rule_as_trying_all():
    r = random.Random(10)
    fields = fields_for("company")
    for _round in range(40):
        trees = [_tree(r) for _ in range(r.randrange(1, 25))]
        preds = [compile_predicate(t) for t in trees]
        index = RuleIndex(trees, fields)
        for _ in range(60):
            rec = _record(r)
            linear = next((i for i, p in enumerate(preds) if p(rec)), None)
            cands = index.candidates(rec)
            assert cands == sorted(set(cands))
            assert next((i for i in cands if preds[i](rec)), None) == linear, (trees, rec)


def test_index_files_rules_under_their_most_selective_condition():
    fields = fields_for("company")
    trees = [
        {
            "all": [
                {"field": "country", "op": "eq", "value": "DE"},
                {"field": "main_products", "op": "contains", "value": "led"},
            ]
        },  # fmt: skip
        {
            "all": [
                {"field": "hs_codes", "op": "startswith", "value": "8471"},
                {"field": "source", "op": "in", "value": ["trade_show", "customs"]},
            ]
        },
        {
            "any": [
                {"field": "preferred_language", "op": "eq", "value": "ja"},
                {"field": "city", "op": "startswith", "value": "Zzja"},
            ]
        },
        {},
    ]
    index = RuleIndex(trees, fields)
    assert index.generic == [3]
    assert index.candidates({"country": "FR", "source": "customs", "hs_codes": ["9405"]}) == [3]
    assert index.candidates({"country": "DE", "hs_codes": ["847130"], "city": "ZZJA x"}) == [0, 1, 2, 3]


def test_import_sized_rule_set_decides_fast(alice, teams):
    """50 rules, most rows trying many of them: the decision stays in the tens of microseconds."""
    import time

    from tradecrm.automation.assignment import Assigner
    from tradecrm.automation.models import AssignmentRule

    east = teams["east"]
    rules = [AssignmentRule(id=i + 1, name=f"r{i}", position=i, assign_to="round_robin", team_id=east.pk,
                            conditions={"all": [{"field": "country", "op": "eq", "value": f"C{i}"}]})
             for i in range(49)]  # fmt: skip
    rules.append(AssignmentRule(id=99, name="rest", position=99, assign_to="round_robin", team_id=east.pk))
    a = Assigner("company", rules=rules)
    rows = [{"country": f"C{i % 70}"} for i in range(5000)]
    t = time.process_time()
    picked = [a.decide(v) for v in rows]
    per_row = (time.process_time() - t) / len(rows)
    assert {d.rule_name for d in picked[:49]} == {f"r{i}" for i in range(49)}
    assert picked[60].rule_name == "rest"
    assert per_row < 200e-6  # ~10 µs here; generous for a loaded machine


# --- events --------------------------------------------------------------------------------------


def test_order_status_change_fires_its_rules(
    make_rule, alice, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.orders.services import order_create, order_set_status

    make_rule(name="Shipped", event="order.status_changed",
              conditions={"all": [{"field": "event.status_to", "op": "eq", "value": "shipped"}]})  # fmt: skip
    c = make_company(actor=alice, name="Order Buyer", country="US")
    order = order_create(actor=alice, company=c, data={
        "currency": "USD", "lines": [{"name": "Mug", "quantity": "10", "unit_price": "2"}]})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(actor=alice, order=order, status="production")
    assert not RuleRun.objects.exists()  # the condition does not hold
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(actor=alice, order=order, status="shipped")
    run = RuleRun.objects.get()
    assert run.obj_type == "order" and run.obj_id == order.pk
    assert run.inputs["changes"] == {"status": ["production", "shipped"]}


def test_grading_run_emits_tier_changes_in_batches(
    make_rule, alice, make_company, django_capture_on_commit_callbacks, monkeypatch
):
    from tradecrm.automation import tasks
    from tradecrm.grading.models import GradeChange, GradingRun

    make_rule(name="Up to A", event="tier.changed",
              conditions={"all": [{"field": "event.tier_to", "op": "eq", "value": "A"}]})  # fmt: skip
    companies = [make_company(actor=alice, name=f"Graded {i}") for i in range(5)]
    from django.utils import timezone

    run = GradingRun.objects.create(started_at=timezone.now(), trigger="nightly")
    GradeChange.objects.bulk_create(
        [GradeChange(company=companies[0], from_tier="", to_tier="B", run=run, changed_at=timezone.now()),  # first grade
         GradeChange(company=companies[1], from_tier="B", to_tier="A", run=run, changed_at=timezone.now()),
         GradeChange(company=companies[2], from_tier="C", to_tier="A", run=run, changed_at=timezone.now()),
         GradeChange(company=companies[3], from_tier="A", to_tier="B", run=run, changed_at=timezone.now())]
    )  # fmt: skip
    batches = []
    real = tasks.automation_handle_events.call_local
    monkeypatch.setattr(events, "BATCH", 2)
    monkeypatch.setattr(
        tasks.automation_handle_events, "call_local", lambda p: batches.append(len(p)) or real(p)
    )
    with django_capture_on_commit_callbacks(execute=True):
        n = events.emit_grading_changes(run_id=run.pk)
    assert n == 3 and batches == [2, 1]
    assert sorted(RuleRun.objects.values_list("obj_id", flat=True)) == [companies[1].pk, companies[2].pk]


def test_the_grading_engine_calls_the_bulk_emit(monkeypatch, db):
    """The nightly run hands its run id over once it has committed (no change: no call)."""
    from tradecrm.grading import engine

    calls = []
    monkeypatch.setattr(events, "emit_grading_changes", lambda **kw: calls.append(kw))
    run = engine.run(trigger="nightly")
    assert run.status == "done"
    assert calls == ([{"run_id": run.pk, "actor": None}] if run.counts.get("tier_changes") else [])


def test_mail_received_events_for_inbound_customer_mail(monkeypatch):
    seen = []
    monkeypatch.setattr(
        events, "emit_many", lambda ev, items, actor=None: seen.append((ev, items)) or len(items)
    )
    msgs = [SimpleNamespace(pk=1, company_id=5, subject="Order 12", direction="in"),
            SimpleNamespace(pk=2, company_id=None, subject="spam", direction="in"),
            SimpleNamespace(pk=3, company_id=5, subject="Re: offer", direction="out")]  # fmt: skip
    assert events.emit_mail_received(msgs) == 1
    assert seen == [
        ("mail.received", [{"obj_type": "mail", "obj_id": 1, "changes": {"subject": "Order 12"}}])
    ]


# --- approvals -----------------------------------------------------------------------------------


@pytest.fixture
def costed_quotation(make_company, alice):
    from tradecrm.core.models import ExchangeRate
    from tradecrm.documents.services import quotation_create

    ExchangeRate.objects.create(
        base="USD", quote="CNY", date="2026-03-01", rate=Decimal("7.0"), source="test"
    )
    c = make_company(actor=alice, name="Thin Margin Ltd", country="GB")
    q = quotation_create(actor=alice, company=c, data={"currency": "USD", "valid_until": "2026-04-30"},
                         lines=[{"name": "LED panel", "quantity": "100", "unit_price": "10"}])  # fmt: skip
    q.lines.update(unit_cost_cny=Decimal("68"))  # 70 CNY revenue per unit, 68 cost: ~2.9 %
    return q


def test_margin_below_the_floor_needs_approval(costed_quotation, settings, alice, carol):
    from tradecrm.automation import approvals
    from tradecrm.documents.services import quotation_submit

    settings.TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT = None
    assert not approvals.quotation_needs_approval(costed_quotation)
    settings.TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT = "8"
    kinds = [k for k, _t, _p in approvals.quotation_reasons(costed_quotation)]
    assert kinds == ["quotation_margin"]
    assert approvals.quotation_needs_approval(costed_quotation)
    quotation_submit(actor=alice, quotation=costed_quotation)
    a = Approval.objects.get(obj_type="quotation", obj_id=costed_quotation.pk)
    assert a.kind == "quotation_margin" and "8%" in a.title and Decimal(a.params["margin_percent"]) < 8
    settings.TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT = "2"
    assert not approvals.quotation_reasons(costed_quotation)


def test_decision_and_reason_on_the_quotation_and_customer_pages(costed_quotation, settings, alice, carol,
                                                                client_for, dave):  # fmt: skip
    from tradecrm.automation import approvals
    from tradecrm.documents.services import quotation_submit

    settings.TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT = "8"
    quotation_submit(actor=alice, quotation=costed_quotation)
    a = Approval.objects.get()
    approvals.approval_decide(actor=carol, approval=a, approve=False, reason="Raise the price to 10.50")
    for url in (
        f"/documents/quotations/{costed_quotation.pk}/",
        f"/customers/{costed_quotation.company_id}/",
    ):
        html = client_for(alice).get(url).content.decode()
        assert 'data-testid="record-approvals"' in html and "Raise the price to 10.50" in html, url
    assert client_for(dave).get(f"/documents/quotations/{costed_quotation.pk}/").status_code == 404


def test_pool_page_offers_to_ask_a_manager_above_the_quota(
    alice, carol, dave, teams, make_company, client_for
):
    from tradecrm.pool.models import Pool
    from tradecrm.pool.services import pool_claim, pool_release

    pool = Pool.objects.create(name="P", rules={"claim_limit_per_day": 1})
    pool.teams.set([teams["sales"]])  # east (alice's) is under sales; west (dave's) is not
    first, second = (make_company(actor=carol, name=n) for n in ("Pooled one", "Pooled two"))
    for c in (first, second):
        pool_release(actor=carol, company=c, reason="no time", pool=pool)
    html = client_for(alice).get(f"/pool/{pool.pk}/").content.decode()
    assert 'data-testid="claim"' in html and 'data-testid="ask-claim"' not in html
    pool_claim(actor=alice, company_id=first.pk)
    html = client_for(alice).get(f"/pool/{pool.pk}/").content.decode()
    assert 'data-testid="ask-claim"' in html and 'data-testid="claim"' not in html
    r = client_for(alice).post(f"/approvals/pool-claim/{second.pk}/", {"reason": "Met them at the fair",
                                                                        "next": f"/pool/{pool.pk}/"})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == f"/pool/{pool.pk}/"
    a = Approval.objects.get(kind="pool_claim")
    assert a.obj_id == second.pk and a.params["reason"] == "Met them at the fair"
    assert client_for(dave).post(f"/approvals/pool-claim/{second.pk}/").status_code == 404
    r = client_for(alice).post(f"/approvals/pool-claim/{second.pk}/", {"next": "https://evil.example/"})
    assert r["Location"] == "/approvals/"


# --- timers and bad input ------------------------------------------------------------------------


def test_every_timer_event_fires_once_per_occurrence(make_rule, alice, carol, make_company):
    import datetime as dt

    from tradecrm.automation import engine
    from tradecrm.automation.tests.conftest import NOW
    from tradecrm.documents.models import Quotation
    from tradecrm.documents.services import quotation_create
    from tradecrm.orders.models import Receivable
    from tradecrm.orders.services import order_create
    from tradecrm.sales.models import Inquiry

    c = make_company(actor=alice, name="Timers Ltd", country="US")
    Inquiry.objects.create(channel="website", received_at=NOW - dt.timedelta(hours=30), company=c,
                           owner=alice, team=alice.team, subject="Price for 2,000 lamps?")  # fmt: skip
    q = quotation_create(actor=alice, company=c, data={"currency": "USD", "valid_until": "2026-04-30"},
                         lines=[{"name": "Lamp", "quantity": "1", "unit_price": "5"}])  # fmt: skip
    Quotation.objects.filter(pk=q.pk).update(status="issued", valid_until=dt.date(2026, 3, 6))
    order = order_create(actor=alice, company=c, data={
        "currency": "USD", "lines": [{"name": "Mug", "quantity": "10", "unit_price": "2"}]})  # fmt: skip
    Receivable.objects.filter(order=order).update(due_date=dt.date(2026, 2, 20))
    note = [{"type": "notify", "to": "owner", "message": "look"}]
    rules = [
        make_rule(name="Unanswered", event="inquiry.unanswered", params={"hours": 24}, actions=note),
        make_rule(
            name="Expiring",
            event="quotation.expiring",
            params={"days": 3},
            actions=note,
            conditions={"field": "event.days_left", "op": "lte", "value": 2},
        ),  # fmt: skip
        make_rule(
            name="Overdue pay",
            event="payment.overdue",
            actions=note,
            conditions={"field": "event.days_overdue", "op": "gt", "value": 7},
        ),  # fmt: skip
    ]
    assert engine.scan_timers(NOW) == 3
    assert engine.scan_timers(NOW) == 0
    for rule in rules:
        run = RuleRun.objects.get(rule=rule, status="done")
        assert run.obj_type in ("inquiry", "quotation", "payment")


def test_impossible_list_and_unknown_action_refused(make_rule):
    from tradecrm.core.errors import ValidationError

    with pytest.raises(ValidationError) as e:
        make_rule(conditions={"field": "country", "op": "in", "value": []})
    assert "non-empty list" in str(e.value.message_dict)
    with pytest.raises(ValidationError) as e:
        make_rule(conditions={"all": [{"field": "country", "op": "in", "value": ["DE", "FR"]},
                                      {"field": "country", "op": "in", "value": ["US"]}]})  # fmt: skip
    assert "Impossible condition" in str(e.value.message_dict)
    with pytest.raises(ValidationError) as e:
        make_rule(actions=[{"type": "launch_rocket"}])
    assert "Unknown action “launch_rocket”" in str(e.value.message_dict)


def test_mail_server_down_is_retried_and_never_blocks_the_save(
    make_rule, admin, alice, make_company, settings, django_capture_on_commit_callbacks
):
    """A real SMTP connection to a closed local port: the save goes through, the run waits for a
    retry with the error recorded."""
    import socket

    from tradecrm.customers.models import Company

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    rule = make_rule(actor=admin, actions=[{"type": "send_email", "templates": {
        "en": {"subject": "Welcome {{ company }}", "body": "Hello"}}}])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=alice, name="Mail Down Ltd", email="buyer@example.com")
    assert Company.objects.filter(pk=c.pk).exists()
    run = RuleRun.objects.get(rule=rule)
    assert run.status == "retrying" and run.results[0]["retry"] is True
    assert "refused" in run.results[0]["error"].lower() or "Error" in run.results[0]["error"]


def test_scheduled_chunks_and_audit_rows(make_rule, alice, bob, tag, make_company, monkeypatch):
    """Chunked over the matching set (a chunk of 2 here), each changed customer gets the same audit
    event as the per-record path; a second run writes none."""
    from tradecrm.audit.models import AuditEvent
    from tradecrm.automation import engine
    from tradecrm.automation.tests.conftest import NOW
    from tradecrm.customers.models import Company, CompanyTag

    monkeypatch.setattr(engine, "SCHEDULED_CHUNK", 2)
    de = [
        make_company(actor=alice if i % 2 else bob, name=f"DE {i}", country="DE", status="dormant")
        for i in range(5)
    ]
    make_company(actor=alice, name="US", country="US", status="dormant")
    Company.objects.filter(pk=de[0].pk).update(industry="lighting")  # already done: no event for it
    rule = make_rule(event="scheduled", schedule="0 8 * * 1", conditions={"field": "country", "op": "eq", "value": "DE"},
                     actions=[{"type": "set_field", "field": "industry", "value": "lighting"},
                              {"type": "add_tag", "tag": tag.pk}])  # fmt: skip
    run = engine.run_scheduled(rule, NOW)
    assert [r["rows"] for r in run.results] == [4, 5]
    events_ = AuditEvent.objects.filter(action="automation.set_field").order_by("object_id")
    assert [e.object_id for e in events_] == [c.pk for c in de[1:]]
    assert events_[0].changes == {"industry": ["", "lighting"], "rule": rule.pk}
    assert events_[0].object_type == "customers.company" and events_[0].actor.username == "admin"
    tags = AuditEvent.objects.filter(action="automation.tag_add")
    assert tags.count() == 5 and tags[0].changes == {"tag": tag.pk, "rule": rule.pk}
    run2 = engine.run_scheduled(rule, NOW, force_key="again")
    assert [r["rows"] for r in run2.results] == [0, 0]
    assert AuditEvent.objects.filter(action__in=["automation.set_field", "automation.tag_add"]).count() == 9
    assert CompanyTag.objects.count() == 5
