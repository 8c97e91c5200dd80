"""Quotation services: lines from products and free lines with their totals and containers, every
bad input of the issue refused by name with nothing saved, issue (number, frozen rate, snapshot),
revisions (-R2) and superseding, answers, expiry, approval."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.documents import services
from tradecrm.documents.models import DocumentSeries, Quotation, QuotationLine
from tradecrm.documents.services import (
    DocumentLocked,
    quotation_accept,
    quotation_approval_reject,
    quotation_approve,
    quotation_cancel,
    quotation_delete,
    quotation_issue,
    quotation_reject,
    quotation_revise,
    quotation_submit,
    quotation_update,
    quotations_expire_due,
)

from .conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- creation and figures -----------------------------------------------------------------------


def test_product_and_free_lines_with_totals_and_containers(make_quotation, lamp, seller):
    q = make_quotation()
    assert q.status == "draft" and q.number == "" and q.currency == "USD" and q.seller == seller
    assert q.document_date == TODAY and q.valid_until == TODAY + dt.timedelta(days=30)
    first, second = q.lines.order_by("position")
    # copied from the product
    assert (first.sku, first.name, first.name_zh, first.hs_code, first.unit) == (
        "LED-T8", "LED tube T8 18W", "LED灯管", "8539520000", "pcs")  # fmt: skip
    assert first.unit_cost_cny == D("11.3000") and first.tax_rebate_rate == D("13.00")
    assert first.amount == D("2000.00") and first.cartons == 42  # 1000 / 24, rounded up
    assert first.gross_weight_kg == D("525.000") and first.cbm == D("2.6250")
    assert second.product is None and second.amount == D("180.00") and second.cartons == 0
    assert (q.subtotal, q.discount_total, q.total_amount) == (D("2200.00"), D("20.00"), D("2180.00"))
    assert (q.total_cartons, q.total_gross_weight_kg, q.total_cbm) == (42, D("525.000"), D("2.6250"))
    assert q.total_cost_cny == D("11300.00") and q.total_rebate_cny == D("1300.00")
    assert AuditEvent.objects.filter(action="quotation.create", object_id=q.pk).exists()


def test_currency_defaults_to_the_customers_and_lines_round_to_its_minor_unit(make_quotation, make_company):
    tokyo = make_company(name="Tokyo Trading KK", country="JP", currency="JPY")
    q = make_quotation(company=tokyo, lines=[{"name": "Lamp", "quantity": "3", "unit_price": "333.5"}])
    assert q.currency == "JPY" and q.lines.get().amount == D("1001")


def test_the_named_place_of_a_sea_term_fills_the_port(make_quotation):
    q = make_quotation(incoterm="cif", incoterm_place="", port_of_destination="Hamburg")
    assert (q.incoterm, q.incoterm_place) == ("CIF", "Hamburg")
    q = make_quotation(incoterm="FOB", incoterm_place="Ningbo")
    assert q.port_of_loading == "Ningbo"


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "qty,message",
    [("0", "Line 3: quantity must be greater than zero."), ("-5", "Line 3: quantity must be greater than zero."),
     ("abc", "Line 3: “abc” is not a number.")],
)  # fmt: skip
def test_quantity_not_above_zero_is_refused_with_the_line_number(make_quotation, lines, qty, message):
    bad = [*lines, {"name": "Spare caps", "quantity": qty, "unit_price": "1"}]
    with pytest.raises(ValidationError) as exc:
        make_quotation(lines=bad)
    assert errors_of(exc) == {"lines.2.quantity": [message]}
    assert not Quotation.objects.exists() and not QuotationLine.objects.exists()


def test_every_bad_field_is_named_at_once(make_quotation):
    with pytest.raises(ValidationError) as exc:
        make_quotation(currency="XYZ", incoterm="FOX", payment_terms="tt_deposit",
                       lines=[{"name": "", "quantity": "1", "unit_price": "-1"}])  # fmt: skip
    errors = errors_of(exc)
    assert errors["currency"] == [
        "“XYZ” is not a currency code; use the three-letter ISO 4217 code, e.g. USD, EUR, CNY."
    ]
    assert errors["incoterm"][0].startswith("“FOX” is not an Incoterms 2020 rule; use one of EXW, FCA")
    assert errors["deposit_percent"] == ["Enter the deposit percentage for “T/T, deposit before production, balance "
                                         "before shipment”, e.g. 30."]  # fmt: skip
    assert errors["lines.0.name"] == ["Line 1: enter a description or pick a product."]
    assert errors["lines.0.unit_price"] == ["Line 1: the unit price cannot be negative."]
    assert not Quotation.objects.exists()


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"incoterm": "DAP", "incoterm_place": ""}, "incoterm_place",
         "Enter the named place for DAP, e.g. “DAP Chicago warehouse”."),
        ({"incoterm": "FOB", "incoterm_place": ""}, "incoterm_place",
         "Enter the port of loading for FOB, e.g. “FOB Ningbo”."),
        ({"payment_terms": "tt_deposit", "deposit_percent": "120"}, "deposit_percent",
         "Enter a deposit percentage from 0 to 100, e.g. 30."),
        ({"valid_until": "2026-03-01"}, "valid_until", "The quotation cannot expire before its date (2026-03-04)."),
        ({"lead_time_days": "soon"}, "lead_time_days", "Enter a whole number of days from 0 to 365."),
    ],
)  # fmt: skip
def test_bad_terms_are_refused_by_name(make_quotation, data, field, message):
    with pytest.raises(ValidationError) as exc:
        make_quotation(**data)
    assert errors_of(exc) == {field: [message]}


def test_a_contact_of_another_customer_is_refused(make_quotation, make_company, alice):
    from tradecrm.customers.models import Contact

    other = make_company(name="Other GmbH", country="DE")
    stranger = Contact.objects.create(company=other, first_name="Max")
    with pytest.raises(ValidationError) as exc:
        make_quotation(contact=stranger.pk)
    assert errors_of(exc) == {"contact": ["Pick a contact of this customer."]}


def test_an_opportunity_or_inquiry_of_another_customer_is_refused(make_quotation, make_company, alice):
    from tradecrm.sales.models import Inquiry, Opportunity, Pipeline

    other = make_company(name="Other GmbH", country="DE")
    export = Pipeline.objects.get(is_default=True)
    opp = Opportunity.objects.create(name="Theirs", company=other, pipeline=export, stage=export.stages.first(),
                                     currency="EUR", stage_entered_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    inquiry = Inquiry.objects.create(channel="email", received_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                                     company=other)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        make_quotation(opportunity=opp.pk, inquiry=inquiry.pk)
    assert errors_of(exc) == {
        "opportunity": ["Pick an opportunity of this customer."],
        "inquiry": ["Pick an inquiry of this customer."],
    }
    assert not Quotation.objects.exists()


# --- update -------------------------------------------------------------------------------------


def test_update_replaces_lines_keeps_what_a_line_id_does_not_repeat(make_quotation, alice, carol):
    q = make_quotation()
    first = q.lines.get(position=1)
    # carol may set costs on a free line; alice's next edit does not lose them
    quotation_update(actor=carol, quotation=q, version=1, data={},
                     lines=[{"id": first.pk}, {"name": "Stand", "quantity": "2", "unit_price": "100",
                                                 "unit_cost_cny": "300"}])  # fmt: skip
    stand = q.lines.get(position=2)
    assert stand.unit_cost_cny == D("300")
    q = quotation_update(actor=alice, quotation=q, version=2, data={"remarks": "Best price"},
                         lines=[{"id": first.pk, "quantity": "48"}, {"id": stand.pk, "unit_cost_cny": "1"}])  # fmt: skip
    assert q.version == 3 and q.remarks == "Best price"
    again = list(q.lines.order_by("position"))
    assert again[0].quantity == D("48") and again[0].cartons == 2 and again[0].gross_weight_kg == D("25.000")
    assert again[1].unit_cost_cny == D("300")  # a sales rep cannot type a cost
    assert q.total_amount == D("296.00") and q.total_cartons == 2


def test_a_stale_version_is_refused_and_nothing_changes(make_quotation, alice, bob):
    q = make_quotation()
    quotation_update(actor=alice, quotation=Quotation.objects.get(pk=q.pk), version=1, data={"remarks": "A"})
    with pytest.raises(ConcurrentEditError) as exc:
        quotation_update(actor=alice, quotation=q, version=1, data={"remarks": "B"})
    assert exc.value.current_version == 2
    assert Quotation.objects.get(pk=q.pk).remarks == "A"


def test_header_change_recalculates_lines_in_the_new_currency(make_quotation, alice):
    q = make_quotation(lines=[{"name": "Lamp", "quantity": "3", "unit_price": "333.5"}])
    assert q.total_amount == D("1000.50")
    q = quotation_update(actor=alice, quotation=q, version=1, data={"currency": "JPY"})
    assert q.total_amount == D("1001") and q.lines.get().amount == D("1001")


# --- issue --------------------------------------------------------------------------------------


def test_issue_numbers_freezes_the_rate_and_snapshots(make_quotation, alice, rates, jane):
    q = make_quotation(currency="EUR", contact=jane.pk, payment_terms="tt_deposit", deposit_percent="30")
    q = quotation_issue(actor=alice, quotation=q, version=1)
    q.refresh_from_db()
    assert q.status == "issued" and q.number == "Q-2026-0001" and q.base_number == "Q-2026-0001"
    assert (q.fx_rate, q.fx_date, q.fx_source, q.base_currency) == (
        D("1.085"),
        dt.date(2026, 3, 3),
        "ECB",
        "USD",
    )
    assert q.issued_by == alice and q.issued_at is not None and q.version == 2
    snap = q.snapshot
    assert snap["doc"]["number"] == "Q-2026-0001" and snap["doc"]["currency"] == "EUR"
    assert (
        snap["seller"]["name"] == "Ningbo Brightway Lighting Co., Ltd."
        and snap["seller"]["name_zh"] == "宁波明途照明有限公司"
    )
    assert snap["buyer"]["name"] == "Acme Imports LLC" and snap["buyer"]["contact"] == "Jane Doe"
    assert snap["buyer"]["country"] == "United States"
    assert snap["lines"][0]["qty"] == "1000" and snap["lines"][0]["amount"] == "2000.00"
    assert snap["lines"][0]["name_zh"] == "LED灯管" and snap["lines"][0]["cartons"] == 42
    assert snap["totals"]["total"] == "2180.00" and snap["totals"]["containers"] == "1 × 20GP"
    assert snap["fx"] == {"rate": "1.0850000000", "date": "2026-03-03", "source": "ECB", "base": "USD"}
    assert (
        snap["terms"]["payment"].startswith("T/T, deposit before production")
        and "30% deposit" in snap["terms"]["payment"]
    )
    assert snap["doc"]["valid_until"] == "2026-04-03"


def test_numbers_follow_each_other(issued):
    assert [issued().number for _ in range(3)] == ["Q-2026-0001", "Q-2026-0002", "Q-2026-0003"]


def test_missing_rate_refuses_the_issue_and_changes_nothing(make_quotation, alice, rates):
    q = make_quotation(currency="GBP")
    with pytest.raises(ValidationError) as exc:
        quotation_issue(actor=alice, quotation=q, version=1)
    assert list(errors_of(exc)) == ["currency"]
    assert errors_of(exc)["currency"][0].startswith("No exchange rate GBP→USD on or before 2026-03-04")
    q.refresh_from_db()
    assert (q.status, q.number, q.fx_rate, q.version, q.snapshot) == ("draft", "", None, 1, {})
    assert not DocumentSeries.objects.filter(last_number__gt=0).exists()  # no number was used up


def test_issue_needs_a_line_and_a_future_validity(make_quotation, alice, rates):
    q = make_quotation(lines=[])
    with pytest.raises(ValidationError) as exc:
        quotation_issue(actor=alice, quotation=q, version=1)
    assert errors_of(exc) == {"lines": ["Add at least one line before issuing the quotation."]}


def test_an_issued_quotation_cannot_be_edited_a_revision_can(issued, alice, rates):
    q = issued()
    with pytest.raises(DocumentLocked) as exc:
        quotation_update(actor=alice, quotation=q, version=q.version, data={"remarks": "x"})
    assert exc.value.messages == ["Quotation Q-2026-0001 is issued and cannot be changed; make a revision."]
    assert Quotation.objects.get(pk=q.pk).remarks == ""
    with pytest.raises(DocumentLocked):
        quotation_delete(actor=alice, quotation=q)

    r2 = quotation_revise(actor=alice, quotation=q)
    assert (r2.status, r2.revision, r2.previous_id, r2.base_number, r2.number) == (
        "draft",
        2,
        q.pk,
        "Q-2026-0001",
        "",
    )
    assert r2.lines.count() == 2 and r2.total_amount == q.total_amount
    q.refresh_from_db()
    assert q.status == "issued"  # valid until the revision is issued
    with pytest.raises(ValidationError):
        quotation_revise(actor=alice, quotation=q)  # one revision at a time
    r2 = quotation_update(actor=alice, quotation=r2, version=r2.version, data={},
                          lines=[{"name": "Stand", "quantity": "1", "unit_price": "90"}])  # fmt: skip
    r2 = quotation_issue(actor=alice, quotation=r2, version=r2.version)
    assert r2.number == "Q-2026-0001-R2"
    q.refresh_from_db()
    assert q.status == "superseded"
    with pytest.raises(DocumentLocked) as exc:
        quotation_update(actor=alice, quotation=q, version=q.version, data={})
    assert "replaced by a revision" in exc.value.messages[0]
    assert issued().number == "Q-2026-0002"  # a revision takes no number of the series
    r3 = quotation_revise(actor=alice, quotation=r2)
    assert (
        r3.revision == 3 and quotation_issue(actor=alice, quotation=r3, version=1).number == "Q-2026-0001-R3"
    )


def test_answers_and_expiry(issued, alice, frozen):
    a, r, e = issued(), issued(), issued()
    quotation_accept(actor=alice, quotation=a, version=a.version, note="PO follows")
    quotation_reject(actor=alice, quotation=r, note="Price too high")
    assert (a.status, a.decision_note, r.status, r.decision_note) == ("accepted", "PO follows", "rejected",
                                                                      "Price too high")  # fmt: skip
    with pytest.raises(ValidationError):
        quotation_accept(actor=alice, quotation=r)
    frozen.move_to(dt.datetime(2026, 4, 10, 2, 0, tzinfo=dt.UTC))
    assert quotations_expire_due() == 1
    e.refresh_from_db()
    assert e.status == "expired" and e.version == 3
    assert AuditEvent.objects.filter(action="quotation.expire", object_id=e.pk).exists()
    assert quotations_expire_due() == 0
    assert Quotation.objects.get(pk=a.pk).status == "accepted"


def test_accepting_after_the_validity_date_asks_for_a_revision(issued, alice, frozen):
    q = issued()
    frozen.move_to(dt.datetime(2026, 4, 10, 2, 0, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as exc:
        quotation_accept(actor=alice, quotation=q)
    assert "expired on 2026-04-03" in errors_of(exc)["status"][0]


def test_cancel_and_delete_drafts_only(make_quotation, issued, alice):
    d = make_quotation()
    quotation_cancel(actor=alice, quotation=d, version=1)
    assert d.status == "cancelled"
    d2 = make_quotation()
    quotation_delete(actor=alice, quotation=d2)
    assert not Quotation.objects.filter(pk=d2.pk).exists()
    q = issued()
    with pytest.raises(ValidationError) as exc:
        quotation_cancel(actor=alice, quotation=q)
    assert "Only a draft can be cancelled" in errors_of(exc)["status"][0]


def test_a_cancelled_revision_makes_room_for_a_new_one(issued, alice):
    q = issued()
    r2 = quotation_revise(actor=alice, quotation=q)
    quotation_cancel(actor=alice, quotation=r2)
    again = quotation_revise(actor=alice, quotation=q)
    assert again.revision == 2 and again.previous_id == q.pk


# --- approval -----------------------------------------------------------------------------------


def test_approval_path(settings, make_quotation, alice, carol, rates):
    settings.TRADECRM_QUOTATION_APPROVAL = True
    q = make_quotation()
    with pytest.raises(ValidationError) as exc:
        quotation_issue(actor=alice, quotation=q, version=1)
    assert "needs a manager's approval" in errors_of(exc)["status"][0]
    quotation_submit(actor=alice, quotation=q, version=1)
    assert q.status == "pending"
    with pytest.raises(PermissionDenied):
        quotation_approve(actor=alice, quotation=q)
    with pytest.raises(ValidationError) as exc:
        quotation_approval_reject(actor=carol, quotation=q, note="")
    assert list(errors_of(exc)) == ["note"]
    quotation_approval_reject(actor=carol, quotation=q, note="Margin too thin: 2.10 at least")
    assert q.status == "draft"
    assert AuditEvent.objects.get(action="quotation.approval_reject").changes == {
        "note": "Margin too thin: 2.10 at least"
    }
    quotation_submit(actor=alice, quotation=q)
    quotation_approve(actor=carol, quotation=q)
    assert q.status == "approved" and q.approved_by == carol
    # a change after approval needs a new approval
    q = quotation_update(actor=alice, quotation=q, version=q.version, data={"remarks": "new"})
    assert q.status == "draft" and q.approved_by is None
    quotation_submit(actor=alice, quotation=q)
    quotation_approve(actor=carol, quotation=q)
    q = quotation_issue(actor=alice, quotation=q, version=q.version)
    assert q.status == "issued"


def test_a_submitted_quotation_waits_even_without_the_setting(make_quotation, alice, rates):
    q = make_quotation()
    quotation_submit(actor=alice, quotation=q)
    with pytest.raises(ValidationError) as exc:
        quotation_issue(actor=alice, quotation=q, version=q.version)
    assert "waiting for approval" in errors_of(exc)["status"][0]


def test_stale_version_on_issue(make_quotation, alice, rates):
    q = make_quotation()
    with pytest.raises(ConcurrentEditError):
        quotation_issue(actor=alice, quotation=q, version=7)
    assert Quotation.objects.get(pk=q.pk).status == "draft"


def test_opportunity_moves_to_quoted_then_to_pi(make_quotation, alice, acme, rates, usd_account):
    from django.utils import timezone

    from tradecrm.documents.services import proforma_from_quotation, proforma_issue
    from tradecrm.sales.models import Opportunity, Stage

    inquiry = (
        Stage.objects.filter(key="inquiry", pipeline__is_default=True).select_related("pipeline").first()
    )
    if inquiry is None:
        pytest.skip("the seeded export pipeline is not there")
    opp = Opportunity.objects.create(name="Tubes", company=acme, pipeline=inquiry.pipeline, stage=inquiry,
                                     currency="USD", owner=alice, stage_entered_at=timezone.now())  # fmt: skip
    q = make_quotation(opportunity=opp.pk)
    quotation_issue(actor=alice, quotation=q, version=1)
    opp.refresh_from_db()
    assert opp.stage.key == "quoted"
    pi = proforma_from_quotation(actor=alice, quotation=q)
    proforma_issue(actor=alice, proforma=pi, version=pi.version)
    opp.refresh_from_db()
    assert opp.stage.key == "contract"
    # never backwards: a later quotation leaves the deal at PI / contract
    q2 = make_quotation(opportunity=opp.pk)
    quotation_issue(actor=alice, quotation=q2, version=1)
    opp.refresh_from_db()
    assert opp.stage.key == "contract"


def test_expire_due_is_the_periodic_entry(issued):
    assert services.quotations_expire_due(today=TODAY) == 0


def test_dates_default_to_the_reps_own_day(make_quotation, alice, frozen):
    frozen.move_to(dt.datetime(2026, 3, 4, 20, 0, tzinfo=dt.UTC))  # already 5 March in Shanghai
    q = make_quotation()
    assert (q.document_date, q.valid_until) == (dt.date(2026, 3, 5), dt.date(2026, 4, 4))
