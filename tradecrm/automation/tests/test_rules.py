"""Workflow rules: refused when saved (unknown field, impossible condition, loop, an action the
author may not take), versioned, fired after the save with a run log, loop and rate limits, failing
actions retried and recorded without blocking the save, scheduled rules set-based and idempotent,
timers once per occurrence, dry run and the test on a sample record."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied

from tradecrm.automation import engine
from tradecrm.automation.models import Rule, RuleRun, RuleVersion, RunStatus
from tradecrm.automation.services import rule_set_active, rule_update
from tradecrm.core.errors import ValidationError

from .conftest import NOW

DE = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}


def errors_of(exc) -> str:
    return " ".join(m for ms in exc.value.message_dict.values() for m in ms)


def test_refused_when_saved_with_the_reason(make_rule, carol, pool):
    with pytest.raises(ValidationError) as e:
        make_rule(conditions={"field": "shoe_size", "op": "eq", "value": 42})
    assert "Unknown field “shoe_size”" in errors_of(e)
    with pytest.raises(ValidationError) as e:
        make_rule(
            event="survey.score_received",
            conditions={
                "all": [
                    {"field": "event.score", "op": "gt", "value": 10},
                    {"field": "event.score", "op": "lt", "value": 5},
                ]
            },
        )
    assert "Impossible condition" in errors_of(e)
    with pytest.raises(ValidationError) as e:
        make_rule(actions=[{"type": "move_to_pool", "pool": 99999, "reason": "x"}])
    assert "no pool with id 99999" in errors_of(e)
    with pytest.raises(ValidationError) as e:
        make_rule(actor=carol, actions=[{"type": "webhook", "url": "https://example.com/h"}])
    assert "Only an administrator may use the action “webhook”" in errors_of(e)
    with pytest.raises(ValidationError) as e:
        make_rule(event="scheduled", schedule="every monday")
    assert "not a valid cron expression" in errors_of(e)


def test_sales_reps_may_not_build_rules(make_rule, alice):
    with pytest.raises(PermissionDenied):
        make_rule(actor=alice)


def test_a_cycle_between_rules_is_refused(make_rule):
    make_rule(name="Lead → prospect", event="record.updated",
              conditions={"field": "status", "op": "eq", "value": "lead"},
              actions=[{"type": "set_field", "field": "status", "value": "prospect"}])  # fmt: skip
    make_rule(name="Prospect → sample", event="record.updated",
              conditions={"field": "status", "op": "eq", "value": "prospect"},
              actions=[{"type": "set_field", "field": "status", "value": "sample"}])  # fmt: skip
    with pytest.raises(ValidationError) as e:
        make_rule(name="Sample → lead", event="record.updated",
                  conditions={"field": "status", "op": "eq", "value": "sample"},
                  actions=[{"type": "set_field", "field": "status", "value": "lead"}])  # fmt: skip
    assert "in a loop" in errors_of(e) and "Lead → prospect" in errors_of(e)
    with pytest.raises(ValidationError):  # a rule re-triggering itself
        make_rule(
            name="Self",
            event="record.updated",
            actions=[{"type": "set_field", "field": "industry", "value": "x"}],
        )


def test_every_save_is_a_version(make_rule, admin):
    rule = make_rule(name="v")
    rule_update(actor=admin, rule=rule, version=1, data={"conditions": DE})
    rule_set_active(actor=admin, rule=rule, active=False)
    assert list(RuleVersion.objects.filter(rule=rule).values_list("version", flat=True)) == [3, 2, 1]
    assert RuleVersion.objects.get(rule=rule, version=2).definition["conditions"] == DE


def test_rule_fires_after_the_save_and_logs(
    make_rule, alice, tag, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.customers.models import CompanyTag
    from tradecrm.followups.models import FollowUp, Notification

    rule = make_rule(name="German welcome", conditions=DE, actions=[
        {"type": "add_tag", "tag": tag.pk},
        {"type": "create_followup", "title": "Send the catalogue", "due_in_days": 2},
        {"type": "notify", "to": "owner", "message": "New German customer"}])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=alice, name="Köln GmbH", country="DE")
        other = make_company(actor=alice, name="Lyon SA", country="FR")
    assert CompanyTag.objects.filter(company=c, tag=tag).exists()
    assert not CompanyTag.objects.filter(company=other).exists()
    fu = FollowUp.objects.get(company=c)
    assert fu.assignee == alice and fu.due_at == NOW + dt.timedelta(days=2)
    assert Notification.objects.filter(user=alice, kind="automation_notice").count() == 1
    run = RuleRun.objects.get(rule=rule)
    assert run.status == RunStatus.DONE and run.version == 1 and run.obj_id == c.pk
    assert [r["ok"] for r in run.results] == [True, True, True]


def test_failing_webhook_is_retried_with_back_off_and_never_blocks(
    make_rule, alice, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.automation.actions import Retryable
    from tradecrm.customers.models import Company

    rule = make_rule(actions=[{"type": "webhook", "url": "https://hooks.example.com/x", "secret": "s"},
                              {"type": "notify", "to": "owner", "message": "m"}])  # fmt: skip
    with mock.patch("tradecrm.automation.actions.call_webhook", side_effect=Retryable("HTTP 500")):
        with django_capture_on_commit_callbacks(execute=True):
            c = make_company(actor=alice, name="Saved anyway")
        assert Company.objects.filter(pk=c.pk).exists()
        run = RuleRun.objects.get(rule=rule)
        assert run.status == RunStatus.RETRYING and run.results[0]["error"] == "HTTP 500"
        assert run.results[1]["ok"]
        engine.retry_action(run.pk, 0, 1)
        engine.retry_action(run.pk, 0, 2)
        engine.retry_action(run.pk, 0, 3)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.results[0]["attempts"] == 4
    with mock.patch("tradecrm.automation.actions.call_webhook", return_value=200):
        engine.retry_action(run.pk, 0, 1)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


def test_webhook_goes_through_the_integrations_caller(monkeypatch):
    from tradecrm.automation import actions
    from tradecrm.automation.actions import Retryable
    from tradecrm.integrations import services as integ

    calls = []

    def fake(url, payload, secret=None, timeout=10, *, event="", delivery_id=""):
        calls.append((url, secret, event))
        return integ.CallResult(status == 204, status, "", "" if status == 204 else "boom", 3)

    monkeypatch.setattr(integ, "webhook_call", fake)
    status = 204
    assert actions.call_webhook("https://x.example/h", {"event": "record.created"}, secret="k") == 204
    assert calls[0] == ("https://x.example/h", "k", "automation.record.created")
    status = 503
    with pytest.raises(Retryable):
        actions.call_webhook("https://x.example/h", {})
    status = 404
    with pytest.raises(RuntimeError):
        actions.call_webhook("https://x.example/h", {})


def test_runtime_loop_protection_and_rate_limit(make_rule, alice, make_company):
    rule = make_rule(max_runs_per_hour=2)
    c = make_company(actor=alice, name="X")
    payload = {"event": "record.created", "obj_type": "company", "obj_id": c.pk, "changes": {}}
    engine.handle_event({**payload, "chain": [rule.pk], "depth": 1})
    assert RuleRun.objects.get(rule=rule).status == RunStatus.LOOP
    engine.handle_event({**payload, "depth": 9})
    for _i in range(3):
        engine.handle_event(payload)
    statuses = list(RuleRun.objects.filter(rule=rule).order_by("id").values_list("status", flat=True))
    assert statuses == ["loop", "loop", "done", "done", "rate_limited"]


def test_rule_turned_off_does_not_fire(
    make_rule, admin, alice, make_company, django_capture_on_commit_callbacks
):
    rule = make_rule()
    rule_set_active(actor=admin, rule=rule, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_company(actor=alice, name="Quiet")
    assert not RuleRun.objects.exists()


def test_scheduled_rule_is_set_based_and_idempotent(make_rule, alice, bob, tag, make_company):
    from tradecrm.customers.models import Company, CompanyTag
    from tradecrm.followups.models import FollowUp, Notification

    for i in range(5):
        make_company(actor=alice if i % 2 else bob, name=f"DE {i}", country="DE", status="dormant")
    make_company(actor=alice, name="US", country="US", status="dormant")
    rule = make_rule(event="scheduled", schedule="0 8 * * 1", conditions={"all": [
        {"field": "country", "op": "eq", "value": "DE"}, {"field": "status", "op": "eq", "value": "dormant"}]},
        actions=[{"type": "add_tag", "tag": tag.pk}, {"type": "create_followup", "title": "Wake up", "due_in_days": 1},
                 {"type": "notify", "to": "owner", "message": "dormant"},
                 {"type": "set_field", "field": "industry", "value": "lighting"}])  # fmt: skip
    run = engine.run_scheduled(rule, NOW)
    assert run.status == RunStatus.DONE and [r["rows"] for r in run.results] == [5, 5, 5, 5], run.results
    assert engine.run_scheduled(rule, NOW) is None  # same period: nothing
    run2 = engine.run_scheduled(rule, NOW, force_key="again")  # even forced, nothing is done twice
    assert [r["rows"] for r in run2.results] == [0, 0, 0, 0]
    assert CompanyTag.objects.count() == 5 and FollowUp.objects.count() == 5
    assert Notification.objects.filter(kind="automation_notice").count() == 5
    assert Company.objects.filter(industry="lighting").count() == 5
    assert Company.objects.filter(country="DE").exclude(next_followup_at=None).count() == 5


def test_due_scheduled_rules_run_once_per_period(make_rule, make_company, alice, tag, frozen):
    make_company(actor=alice, name="A", country="DE")
    rule = make_rule(
        event="scheduled", schedule="0 * * * *", conditions=DE, actions=[{"type": "add_tag", "tag": tag.pk}]
    )
    assert engine.run_due_scheduled(NOW) == []  # next run is 11:00
    frozen.move_to(NOW + dt.timedelta(hours=1, minutes=1))
    later = NOW + dt.timedelta(hours=1, minutes=1)
    assert len(engine.run_due_scheduled(later)) == 1
    assert engine.run_due_scheduled(later) == []
    assert RuleRun.objects.filter(rule=rule).count() == 1


def test_timer_fires_once_per_occurrence(make_rule, alice, make_company):
    from tradecrm.followups.services import followup_create

    c = make_company(actor=alice, name="Late")
    followup_create(actor=alice, company=c, data={"title": "Call", "due_at": "2026-03-01T09:00:00Z"})
    rule = make_rule(event="followup.overdue", conditions={"field": "event.days_overdue", "op": "gte", "value": 2},
                     actions=[{"type": "notify", "to": "manager", "message": "overdue"}])  # fmt: skip
    assert engine.scan_timers(NOW) == 1
    assert engine.scan_timers(NOW) == 0
    assert RuleRun.objects.filter(rule=rule, status="done").count() == 1


def test_dry_run_and_test_on_a_record(make_rule, alice, make_company):
    make_company(actor=alice, name="Before", country="DE")
    rule = make_rule(conditions=DE)
    out = engine.dry_run(rule, NOW - dt.timedelta(days=1))
    assert out["total"] == 1 and out["matches"][0]["name"] == "Before"
    assert not RuleRun.objects.exists()  # nothing was done
    c = make_company(actor=alice, name="Paris", country="FR")
    t = engine.test_on_record({"event": "record.created", "conditions": DE, "actions": rule.actions},
                              obj_type="company", obj_id=c.pk)  # fmt: skip
    assert t["fires"] is False and t["conditions"][0]["actual"] == "FR"


def test_move_to_pool_and_manager_scope(
    make_rule, admin, carol, dave, pool, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.pool.models import PoolEntry

    make_rule(conditions={"field": "source", "op": "eq", "value": "cold"},
              actions=[{"type": "move_to_pool", "pool": pool.pk, "reason": "cold leads go to the pool"}])  # fmt: skip
    make_rule(actor=carol, name="Carol's", actions=[{"type": "notify", "to": "owner", "message": "hi"}])
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=dave, name="Cold one", source="cold")
    assert PoolEntry.objects.filter(company=c, pool=pool).exists()
    assert not RuleRun.objects.filter(rule__name="Carol's").exists()  # dave's team is not carol's


def test_rule_cli_dry_run(make_rule, alice, make_company, capsys):
    from django.core.management import call_command

    make_company(actor=alice, name="Old", country="DE")
    rule = make_rule(conditions=DE)
    call_command("automation", "dry-run", str(rule.pk), "--since", "2026-03-01")
    out = capsys.readouterr().out
    assert '"total": 1' in out
    assert Rule.objects.count() == 1
