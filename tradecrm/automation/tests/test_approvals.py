"""Approvals: quotations with a discount above the limit or O/A / D/A terms need one before they
are issued; the decision and reason stay on the request and in the audit trail; pool claims above
the quota; nobody decides their own request; managers decide for their teams only."""

import pytest
from django.core.exceptions import PermissionDenied

from tradecrm.automation import approvals
from tradecrm.automation.models import Approval
from tradecrm.core.errors import ValidationError


@pytest.fixture
def quotation(make_company, alice):
    from tradecrm.documents.services import quotation_create

    c = make_company(actor=alice, name="Buyer Ltd", country="GB")
    return quotation_create(actor=alice, company=c, data={"currency": "USD", "valid_until": "2026-04-30"},
                            lines=[{"name": "LED panel", "quantity": "100", "unit_price": "10",
                                    "discount_percent": "15"}])  # fmt: skip


def test_discounted_quotation_needs_approval_then_issues(quotation, alice, carol):
    from tradecrm.audit.models import AuditEvent
    from tradecrm.documents.services import quotation_issue, quotation_submit

    assert approvals.quotation_needs_approval(quotation)
    with pytest.raises(ValidationError) as e:
        quotation_issue(actor=alice, quotation=quotation, version=quotation.version)
    assert "approval" in str(e.value)
    quotation_submit(actor=alice, quotation=quotation)
    a = Approval.objects.get(obj_type="quotation", obj_id=quotation.pk)
    assert a.kind == "quotation_discount" and a.status == "pending" and "15" in a.title
    with pytest.raises(PermissionDenied):  # nobody decides their own request
        approvals.approval_decide(actor=alice, approval=a, approve=True)
    with pytest.raises(ValidationError):  # a rejection needs its reason
        approvals.approval_decide(actor=carol, approval=a, approve=False)
    approvals.approval_decide(actor=carol, approval=a, approve=True, reason="strategic account")
    quotation.refresh_from_db()
    a.refresh_from_db()
    assert quotation.status == "approved" and a.decided_by == carol and a.reason == "strategic account"
    assert AuditEvent.objects.filter(action="approval.approved", object_id=quotation.pk).exists()


def test_rejection_sends_the_quotation_back(quotation, alice, carol):
    from tradecrm.documents.services import quotation_submit

    quotation_submit(actor=alice, quotation=quotation)
    a = Approval.objects.get()
    approvals.approval_decide(actor=carol, approval=a, approve=False, reason="15% is too much")
    quotation.refresh_from_db()
    assert quotation.status == "draft"
    assert Approval.objects.get().status == "rejected"


def test_managers_approving_in_documents_close_the_request(quotation, alice, carol):
    from tradecrm.documents.services import quotation_approve, quotation_submit

    quotation_submit(actor=alice, quotation=quotation)
    quotation_approve(actor=carol, quotation=quotation)
    assert Approval.objects.get().status == "approved"


def test_inbox_scope(quotation, alice, bob, carol, dave, admin):
    from tradecrm.documents.services import quotation_submit

    quotation_submit(actor=alice, quotation=quotation)
    a = Approval.objects.get()
    assert list(approvals.approvals_for_user(carol)) == [a]
    assert list(approvals.approvals_for_user(alice)) == [a]  # her own request
    assert list(approvals.approvals_for_user(dave)) == []
    assert not approvals.can_decide(bob, a)
    assert approvals.can_decide(admin, a)


def test_pool_claim_above_quota(alice, carol, teams, make_company, django_capture_on_commit_callbacks):
    from tradecrm.pool.models import Pool, PoolEntry
    from tradecrm.pool.services import pool_release

    pool = Pool.objects.create(name="P", rules={"claim_limit_per_day": 1})
    c = make_company(actor=carol, name="Pooled")
    pool_release(actor=carol, company=c, reason="no time", pool=pool)
    a = approvals.pool_claim_request(actor=alice, company_id=c.pk, reason="I know them")
    assert a.kind == "pool_claim" and a.team_id == alice.team_id
    approvals.approval_decide(actor=carol, approval=a, approve=True, reason="ok")
    c.refresh_from_db()
    assert c.owner_id == alice.pk and not PoolEntry.objects.filter(company=c).exists()


def test_rule_starts_an_approval(make_rule, alice, make_company, django_capture_on_commit_callbacks):
    make_rule(actions=[{"type": "start_approval", "title": "Check the new customer", "approver": "manager"}])
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=alice, name="Needs a look")
    a = Approval.objects.get()
    assert a.kind == "rule" and a.obj_id == c.pk and a.company == c
