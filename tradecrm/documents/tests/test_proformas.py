"""Proforma invoices: from an accepted quotation (or directly), a bank account in the invoice's
currency needed to issue, deposit and balance with due dates, snapshot with bank details,
revisions and cancelling."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from tradecrm.documents.models import BankAccount, ProformaInvoice
from tradecrm.documents.services import (
    DocumentLocked,
    proforma_cancel,
    proforma_create,
    proforma_from_quotation,
    proforma_issue,
    proforma_revise,
    proforma_update,
    quotation_accept,
    quotation_issue,
    quotation_reject,
    quotation_revise,
)

from .conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_accepted_quotation_to_issued_pi(issued, alice, usd_account):
    q = issued(payment_terms="tt_deposit", deposit_percent="30", lead_time_days="35")
    quotation_accept(actor=alice, quotation=q)
    pi = proforma_from_quotation(actor=alice, quotation=q)
    assert (pi.status, pi.quotation_id, pi.currency, pi.incoterm, pi.incoterm_place) == ("draft", q.pk, "USD", "FOB",
                                                                                         "Ningbo")  # fmt: skip
    assert pi.bank_account == usd_account and pi.lines.count() == 2 and pi.total_amount == D("2180.00")
    assert pi.lines.get(position=1).unit_cost_cny == D("11.3000")
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    pi.refresh_from_db()
    assert pi.number == "PI-2026-0001" and pi.status == "issued" and pi.fx_rate == D("1")
    assert (pi.deposit_amount, pi.balance_amount) == (D("654.00"), D("1526.00"))
    assert pi.deposit_due_date == TODAY + dt.timedelta(days=7)
    assert pi.balance_due_date == TODAY + dt.timedelta(days=35)
    bank = pi.snapshot["bank"]
    assert (bank["swift"], bank["account"], bank["currency"]) == ("BKCHCNBJ92A", "3581 0000 1234 5678", "USD")
    assert pi.snapshot["totals"]["deposit"] == "654.00" and pi.snapshot["doc"]["title"] == "Proforma Invoice"


def test_balance_is_never_due_before_the_deposit(issued, alice, usd_account):
    """With no lead time the shipment falls on the PI's own date; the balance then falls due with
    the deposit, not before it (a payment is applied to the oldest due first)."""
    q = issued(payment_terms="tt_deposit", deposit_percent="30", lead_time_days="0")
    quotation_accept(actor=alice, quotation=q)
    pi = proforma_from_quotation(actor=alice, quotation=q)
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    pi.refresh_from_db()
    assert pi.deposit_due_date == TODAY + dt.timedelta(days=7)
    assert pi.balance_due_date == pi.deposit_due_date


def test_pi_needs_a_bank_account_in_its_currency(
    make_quotation, alice, acme, seller, usd_account, rates, lines
):
    pi = proforma_create(actor=alice, company=acme, data={"currency": "EUR"}, lines=lines)
    assert pi.bank_account is None  # the seller has no EUR account
    with pytest.raises(ValidationError) as exc:
        proforma_issue(actor=alice, proforma=pi, version=1)
    assert exc.value.message_dict == {
        "bank_account": [
            "“Ningbo Brightway Lighting Co., Ltd.” has no active bank account in EUR: add one to the seller "
            "profile before issuing, so the buyer knows where to pay."
        ]
    }
    pi = proforma_update(actor=alice, proforma=pi, version=1, data={"bank_account": usd_account.pk})
    with pytest.raises(ValidationError) as exc:
        proforma_issue(actor=alice, proforma=pi, version=pi.version)
    assert exc.value.message_dict["bank_account"] == [
        "The bank account “BOC USD” receives USD; this proforma invoice is in EUR. Choose an account in EUR."
    ]
    pi.refresh_from_db()
    assert (pi.status, pi.number) == ("draft", "")
    eur = BankAccount.objects.create(seller=seller, currency="EUR", beneficiary="Brightway", bank_name="BOC",
                                     swift="BKCHCNBJ92A", account_number="1")  # fmt: skip
    pi = proforma_update(actor=alice, proforma=pi, version=pi.version, data={"bank_account": eur.pk})
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    assert pi.number == "PI-2026-0001" and pi.fx_rate == D("1.085") and pi.balance_amount == D("2180.00")


def test_pi_from_a_superseded_or_rejected_quotation_is_refused(issued, alice, rates):
    q = issued()
    r2 = quotation_revise(actor=alice, quotation=q)
    quotation_issue(actor=alice, quotation=r2, version=r2.version)
    with pytest.raises(ValidationError) as exc:
        proforma_from_quotation(actor=alice, quotation=q)
    assert exc.value.message_dict["status"] == [
        "Q-2026-0001 was replaced by a revision; make the proforma invoice from the latest one."
    ]
    quotation_reject(actor=alice, quotation=r2, note="too expensive")
    with pytest.raises(ValidationError) as exc:
        proforma_from_quotation(actor=alice, quotation=r2)
    assert exc.value.message_dict["status"] == [
        "Q-2026-0001-R2 was rejected by the buyer; make a revision first."
    ]
    assert not ProformaInvoice.objects.exists()


def test_issued_pi_is_locked_revision_supersedes(issued, alice, usd_account):
    pi = proforma_from_quotation(actor=alice, quotation=issued())
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    with pytest.raises(DocumentLocked) as exc:
        proforma_update(actor=alice, proforma=pi, version=pi.version, data={"remarks": "x"})
    assert exc.value.messages == [
        "Proforma invoice PI-2026-0001 is issued and cannot be changed; make a revision."
    ]
    r2 = proforma_revise(actor=alice, proforma=pi)
    assert r2.bank_account == usd_account and r2.quotation_id == pi.quotation_id
    r2 = proforma_issue(actor=alice, proforma=r2, version=r2.version)
    assert r2.number == "PI-2026-0001-R2"
    pi.refresh_from_db()
    assert pi.status == "superseded"


def test_cancel_an_issued_pi_keeps_its_number(issued, alice, usd_account):
    pi = proforma_from_quotation(actor=alice, quotation=issued())
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    proforma_cancel(actor=alice, proforma=pi, version=pi.version)
    pi.refresh_from_db()
    assert (pi.status, pi.number) == ("cancelled", "PI-2026-0001")


def test_balance_due_after_shipment_for_open_account(make_quotation, alice, carol, acme, lines, usd_account, rates):
    from tradecrm.automation.approvals import approval_decide, proforma_credit_request

    pi = proforma_create(actor=alice, company=acme, lines=lines,
                         data={"payment_terms": "oa", "payment_days": "60", "lead_time_days": "30"})  # fmt: skip
    approval_decide(actor=carol, approval=proforma_credit_request(actor=alice, proforma=pi), approve=True, reason="ok")
    pi = proforma_issue(actor=alice, proforma=pi, version=1)
    assert (pi.deposit_amount, pi.deposit_due_date) == (D("0.00"), None)
    assert pi.balance_due_date == TODAY + dt.timedelta(days=90)


def test_credit_terms_need_a_managers_approval_before_issue(alice, bob, carol, dave, acme, lines, usd_account, rates,
                                                           client):  # fmt: skip
    """O/A and D/A on a PI made directly: refused at issue until a manager approves these terms; the
    approval asked from the page or the API, decided by the manager, names the terms; a change to
    other credit terms needs a new one; managers issue without asking; dave gets 404."""
    from tradecrm.automation.approvals import approval_decide, proforma_credit_request

    pi = proforma_create(actor=alice, company=acme, lines=lines, data={"payment_terms": "da", "payment_days": "30"})
    with pytest.raises(ValidationError) as exc:
        proforma_issue(actor=alice, proforma=pi, version=pi.version)
    assert "manager's approval" in str(exc.value.message_dict["payment_terms"])
    client.force_login(dave)
    assert client.post(f"/approvals/proforma-credit/{pi.pk}/").status_code == 404
    assert client.post(f"/api/v1/approvals/proforma-credit/{pi.pk}").status_code == 404
    client.force_login(alice)
    page = client.get(f"/documents/proformas/{pi.pk}/").content.decode()
    assert 'data-testid="credit-blocked"' in page
    assert client.post(f"/approvals/proforma-credit/{pi.pk}/").status_code == 302
    asked = proforma_credit_request(actor=alice, proforma=pi)  # asking again: the same request
    assert asked.params == {"payment_terms": "da"} and asked.status == "pending"
    with pytest.raises(Exception):  # noqa: B017 - nobody decides their own request; sales cannot decide
        approval_decide(actor=bob, approval=asked, approve=True, reason="")
    approval_decide(actor=carol, approval=asked, approve=True, reason="long-standing buyer")
    assert 'data-testid="credit-blocked"' not in client.get(f"/documents/proformas/{pi.pk}/").content.decode()
    pi = proforma_update(actor=alice, proforma=pi, version=pi.version, data={"payment_terms": "oa"})
    with pytest.raises(ValidationError):
        proforma_issue(actor=alice, proforma=pi, version=pi.version)  # approved D/A, not O/A
    pi = proforma_issue(actor=carol, proforma=pi, version=pi.version)  # a manager needs no request
    assert pi.status == "issued"
