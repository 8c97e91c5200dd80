"""Sales services: the seeded pipeline, inquiries with item lines, converting in one step, stage
moves with their history, loss reasons, versions, pipelines admin, samples on the timeline."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company, Contact
from tradecrm.interactions.models import Interaction
from tradecrm.sales import services
from tradecrm.sales.defaults import LOSS_REASONS, STAGES, display_name
from tradecrm.sales.models import (
    Inquiry,
    InquiryItem,
    LossReason,
    Opportunity,
    OpportunityStageChange,
    Pipeline,
    Sample,
    Stage,
)

from .conftest import NOW

pytestmark = pytest.mark.django_db


# --- the seeded pipeline ------------------------------------------------------------------------


def test_default_export_pipeline_is_seeded_with_probabilities_and_stale_days(export):
    stages = list(export.stages.order_by("position"))
    assert [(s.key, s.probability, s.kind, s.stale_days) for s in stages] == [
        ("inquiry", 10, "open", 7), ("quoted", 30, "open", 14), ("sample", 50, "open", 30),
        ("negotiation", 70, "open", 14), ("contract", 90, "open", 14), ("won", 100, "won", None),
        ("lost", 0, "lost", None),
    ]  # fmt: skip
    assert [s.name for s in stages] == [STAGES[s.key][0] for s in stages]
    assert export.name == "Export" and export.is_default
    assert sorted(LossReason.objects.values_list("key", flat=True)) == sorted(LOSS_REASONS)


def test_seeded_names_are_shown_translated_until_renamed(export, admin, monkeypatch):
    from tradecrm.sales import defaults

    quoted = export.by_key["quoted"]
    monkeypatch.setitem(
        defaults.STAGES, "quoted", ("Quoted", "已报价", 30, "open", 14)
    )  # as a catalogue would
    assert display_name(quoted) == "已报价"
    assert display_name({"key": "quoted", "name": "Quoted"}) == "已报价"
    services.stage_update(actor=admin, stage=quoted, data={"name": "Offer sent"})
    assert display_name(Stage.objects.get(pk=quoted.pk)) == "Offer sent"
    with translation.override("en"):
        assert display_name(LossReason.objects.get(key="no_reply")) == "No reply from the buyer"


# --- inquiries ----------------------------------------------------------------------------------


def test_inquiry_with_items_and_its_amount(make_inquiry, alice):
    inquiry = make_inquiry()
    assert inquiry.owner == alice and inquiry.team_id == alice.team_id and inquiry.company is None
    assert list(inquiry.items.values_list("position", "quantity", "target_price")) == [
        (1, Decimal("1000.000"), Decimal("6.5000")), (2, Decimal("500.000"), Decimal("7.2000")),
    ]  # fmt: skip
    assert services.inquiry_amount(inquiry) == Decimal("10100.00")
    assert "smith trading" in inquiry.search_text
    assert AuditEvent.objects.filter(action="inquiry.create", object_id=inquiry.pk).exists()


@pytest.mark.parametrize("quantity", ["0", "-5", 0, -1])
def test_quantities_not_above_zero_are_refused_naming_the_line(make_inquiry, quantity):
    items = [{"description": "ok", "quantity": "10"}, {"description": "panel", "quantity": quantity}]
    with pytest.raises(ValidationError) as exc:
        make_inquiry(items=items)
    assert exc.value.message_dict == {"items": ["Quantity must be greater than zero (line 2)."]}
    assert not Inquiry.objects.exists() and not InquiryItem.objects.exists()


def test_inquiry_names_every_bad_field(make_inquiry):
    with pytest.raises(ValidationError) as exc:
        make_inquiry(channel="fax", buyer_email="not-an-email", target_currency="XXY", incoterm="FOO",
                     buyer_country="ZZ", items=[{"quantity": "3"}])  # fmt: skip
    errors = exc.value.message_dict
    assert set(errors) == {"channel", "buyer_email", "target_currency", "incoterm", "buyer_country", "items"}
    assert errors["incoterm"] == ["Unknown Incoterm “FOO” (use an Incoterms 2020 code, e.g. FOB)."]
    assert errors["items"] == ["Enter a product or a description (line 1)."]
    assert not Inquiry.objects.exists()


def test_update_replaces_items_and_refuses_a_stale_version(make_inquiry, alice):
    inquiry = make_inquiry()
    services.inquiry_update(actor=alice, inquiry=inquiry, version=1,
                            data={"items": [{"description": "Only one", "quantity": "5"}], "status": "qualified"})  # fmt: skip
    assert inquiry.version == 2 and inquiry.status == "qualified"
    assert list(inquiry.items.values_list("description", flat=True)) == ["Only one"]
    with pytest.raises(ConcurrentEditError) as exc:
        services.inquiry_update(actor=alice, inquiry=Inquiry.objects.get(pk=inquiry.pk), version=1,
                                data={"subject": "late"})  # fmt: skip
    assert exc.value.current_version == 2
    assert Inquiry.objects.get(pk=inquiry.pk).subject == "LED panel lights 600x600"


def test_replied_dates_the_first_reply_and_converted_cannot_be_set_by_hand(make_inquiry, alice):
    inquiry = make_inquiry()
    services.inquiry_set_status(actor=alice, inquiry=inquiry, version=1, status="replied")
    assert inquiry.replied_at == NOW
    with pytest.raises(ValidationError) as exc:
        services.inquiry_set_status(actor=alice, inquiry=inquiry, version=2, status="converted")
    assert "status" in exc.value.message_dict


def test_reply_logged_on_the_timeline_of_a_linked_inquiry(make_inquiry, alice, acme):
    inquiry = make_inquiry(company=acme.pk)
    services.inquiry_reply(actor=alice, inquiry=inquiry, version=1, log={"body": "Sent our price list."})
    entry = Interaction.objects.get(company=acme)
    assert (entry.type, entry.direction, entry.subject) == ("email", "out", "Re: LED panel lights 600x600")
    assert Inquiry.objects.get(pk=inquiry.pk).status == "replied"


def test_dave_cannot_link_an_inquiry_to_a_customer_he_cannot_see(make_inquiry, dave, acme):
    with pytest.raises(ValidationError) as exc:
        make_inquiry(actor=dave, company=acme.pk)
    assert exc.value.message_dict == {"company": [f"No customer with id {acme.pk}."]}


# --- convert ------------------------------------------------------------------------------------


def test_convert_to_a_new_customer_in_one_step(make_inquiry, alice, export):
    inquiry = make_inquiry()
    opp = services.inquiry_convert(actor=alice, inquiry=inquiry)
    company = opp.company
    assert (company.name, company.country, company.source, company.owner) == (
        "Smith Trading GmbH",
        "DE",
        "b2b",
        alice,
    )
    contact = Contact.objects.get(company=company)
    assert (contact.first_name, contact.last_name, contact.emails) == (
        "John",
        "Smith",
        ["john@smith-trading.de"],
    )
    assert (opp.name, opp.amount, opp.currency) == ("LED panel lights 600x600", Decimal("10100.00"), "USD")
    assert (
        opp.pipeline == export and opp.stage.key == "inquiry" and opp.status == "open" and opp.owner == alice
    )
    assert opp.contact == contact
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.opportunity, inquiry.company, inquiry.contact) == (
        "converted",
        opp,
        company,
        contact,
    )
    assert OpportunityStageChange.objects.get(opportunity=opp).to_stage.key == "inquiry"
    assert AuditEvent.objects.filter(action="inquiry.convert", object_id=inquiry.pk).exists()


def test_convert_to_an_existing_customer_reuses_the_contact_with_that_email(make_inquiry, alice, acme):
    from tradecrm.customers.services import contact_create

    jane = contact_create(
        actor=alice, company=acme, data={"first_name": "Jane", "emails": ["john@smith-trading.de"]}
    )
    inquiry = make_inquiry(subject="", items=[{"description": "Solar inverter 5kW", "quantity": "20"}])
    opp = services.inquiry_convert(actor=alice, inquiry=inquiry, company=acme,
                                   opportunity_data={"expected_close_date": "2026-05-20"})  # fmt: skip
    assert opp.company == acme and opp.contact == jane and opp.name == "Solar inverter 5kW"
    assert opp.amount == Decimal("0.00") and opp.expected_close_date == dt.date(2026, 5, 20)
    assert Company.objects.count() == 1 and Contact.objects.filter(company=acme).count() == 1


def test_convert_into_a_customer_dave_cannot_see_is_refused(make_inquiry, dave, acme):
    inquiry = make_inquiry(actor=dave)
    with pytest.raises(ValidationError) as exc:
        services.inquiry_convert(actor=dave, inquiry=inquiry, company=acme)
    assert exc.value.message_dict == {"company": [f"No customer with id {acme.pk}."]}
    assert not Opportunity.objects.exists() and Inquiry.objects.get(pk=inquiry.pk).status == "new"


def test_converting_twice_is_refused(make_inquiry, alice):
    inquiry = make_inquiry()
    services.inquiry_convert(actor=alice, inquiry=inquiry)
    with pytest.raises(ValidationError) as exc:
        services.inquiry_convert(actor=alice, inquiry=Inquiry.objects.get(pk=inquiry.pk))
    assert exc.value.message_dict == {"status": ["This inquiry has been converted already."]}
    assert Opportunity.objects.count() == 1 and Company.objects.count() == 1


def test_a_bad_new_customer_leaves_nothing_behind(make_inquiry, alice):
    inquiry = make_inquiry()
    with pytest.raises(ValidationError) as exc:
        services.inquiry_convert(actor=alice, inquiry=inquiry, new_company_data={"name": "", "country": "QQ"})
    assert set(exc.value.message_dict) == {"new_company.name", "new_company.country"}
    assert not Company.objects.exists() and not Opportunity.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).status == "new"


# --- moves --------------------------------------------------------------------------------------


def test_move_records_history_and_time_in_the_previous_stage(make_opp, alice, export, frozen):
    opp = make_opp()
    frozen.shift(dt.timedelta(days=3, hours=2))
    services.opportunity_move_stage(actor=alice, opportunity=opp, stage=export.by_key["quoted"])
    change = OpportunityStageChange.objects.filter(opportunity=opp).order_by("-id").first()
    assert (change.from_stage.key, change.to_stage.key) == ("inquiry", "quoted")
    assert change.seconds_in_from == (3 * 24 + 2) * 3600
    opp.refresh_from_db()
    assert opp.stage_entered_at == NOW + dt.timedelta(days=3, hours=2) and opp.version == 2


def test_lost_needs_a_reason_and_reopening_clears_it(make_opp, alice, export):
    opp = make_opp()
    lost = export.by_key["lost"]
    with pytest.raises(ValidationError) as exc:
        services.opportunity_move_stage(actor=alice, opportunity=opp, stage=lost)
    assert exc.value.message_dict == {"loss_reason": ["Choose why the opportunity was lost."]}
    assert Opportunity.objects.get(pk=opp.pk).stage.key == "inquiry"
    price = LossReason.objects.get(key="price")
    services.opportunity_move_stage(actor=alice, opportunity=opp, stage=lost, loss_reason=price.pk,
                                    loss_note="Vietnam 8% cheaper")  # fmt: skip
    opp.refresh_from_db()
    assert (opp.status, opp.loss_reason, opp.loss_note, opp.closed_at) == (
        "lost",
        price,
        "Vietnam 8% cheaper",
        NOW,
    )
    services.opportunity_move_stage(actor=alice, opportunity=opp, stage=export.by_key["negotiation"])
    opp.refresh_from_db()
    assert (opp.status, opp.loss_reason, opp.loss_note, opp.closed_at) == ("open", None, "", None)


def test_won_sets_status_and_closed_at(make_opp, alice, export):
    opp = make_opp()
    services.opportunity_move_stage(actor=alice, opportunity=opp, stage=export.by_key["won"])
    opp.refresh_from_db()
    assert (opp.status, opp.closed_at) == ("won", NOW)


def test_cross_pipeline_move_is_refused(make_opp, alice, admin, export):
    other = services.pipeline_create(actor=admin, data={"name": "Projects"})
    opp = make_opp()
    with pytest.raises(ValidationError) as exc:
        services.opportunity_move_stage(actor=alice, opportunity=opp, stage=other.stages.first())
    assert exc.value.message_dict == {"stage": ["This stage belongs to another pipeline."]}
    assert Opportunity.objects.get(pk=opp.pk).stage.key == "inquiry"


def test_a_stale_version_is_refused(make_opp, alice, export):
    opp = make_opp()
    services.opportunity_update(actor=alice, opportunity=Opportunity.objects.get(pk=opp.pk), version=1,
                                data={"amount": "12000"})  # fmt: skip
    with pytest.raises(ConcurrentEditError) as exc:
        services.opportunity_move_stage(
            actor=alice, opportunity=opp, stage=export.by_key["quoted"], version=1
        )
    assert exc.value.current_version == 2
    assert Opportunity.objects.get(pk=opp.pk).stage.key == "inquiry"


def test_positions_between_neighbours_and_renumbering(make_opp, alice, export):
    a, b, c = make_opp(name="A"), make_opp(name="B"), make_opp(name="C")  # each on top: C, B, A
    inquiry = export.by_key["inquiry"]

    def order():
        return list(
            Opportunity.objects.filter(stage=inquiry)
            .order_by("position", "id")
            .values_list("name", flat=True)
        )

    assert order() == ["C", "B", "A"]
    pos = services.position_for_drop(a, inquiry, c.pk, b.pk)  # A between C and B
    services.opportunity_move_stage(actor=alice, opportunity=a, stage=inquiry, position=pos)
    assert order() == ["C", "A", "B"]
    Opportunity.objects.filter(pk=b.pk).update(position=Opportunity.objects.get(pk=a.pk).position + 1e-9)
    c = Opportunity.objects.get(pk=c.pk)
    pos = services.position_for_drop(c, inquiry, a.pk, b.pk)  # no room between A and B: renumbered
    services.opportunity_move_stage(actor=alice, opportunity=c, stage=inquiry, position=pos)
    assert order() == ["A", "C", "B"]


def test_owner_must_see_the_customer(make_opp, dave):
    with pytest.raises(ValidationError) as exc:
        make_opp(owner=dave.pk)
    assert exc.value.message_dict["owner"] == [
        "Dave cannot see this customer; share it with them first or pick someone else."
    ]


def test_only_owner_manager_or_admin_deletes(make_opp, alice, bob, acme, carol):
    from tradecrm.customers.models import CompanyFollower

    opp = make_opp()
    CompanyFollower.objects.create(company=acme, user=bob)
    with pytest.raises(PermissionDenied):
        services.opportunity_delete(actor=bob, opportunity=opp)
    services.opportunity_delete(actor=carol, opportunity=opp)
    assert not Opportunity.objects.exists()


# --- pipelines admin ----------------------------------------------------------------------------


def test_stage_admin_create_reorder_and_delete_refused_while_holding_deals(admin, alice, export, make_opp):
    stage = services.stage_create(actor=admin, pipeline=export, data={"name": "Factory audit", "probability": 60,
                                                                      "stale_days": 10})  # fmt: skip
    keys = list(export.stages.order_by("position").values_list("name", flat=True))
    assert keys.index("Factory audit") == 5 and keys[-2:] == ["Won", "Lost"]
    opp = make_opp()
    services.opportunity_move_stage(actor=alice, opportunity=opp, stage=stage)
    with pytest.raises(ValidationError) as exc:
        services.stage_delete(actor=admin, stage=stage)
    assert exc.value.message_dict == {
        "stage": ["This stage holds 1 opportunities; move them to another stage first."]
    }
    ids = list(export.stages.order_by("-position").values_list("id", flat=True))
    services.stage_reorder(actor=admin, pipeline=export, stage_ids=ids)
    assert list(export.stages.order_by("position").values_list("id", flat=True)) == ids
    with pytest.raises(PermissionDenied):
        services.stage_update(actor=alice, stage=stage, data={"probability": 99})


def test_one_default_pipeline(admin, export):
    projects = services.pipeline_create(actor=admin, data={"name": "Projects", "is_default": True},
                                        copy_stages_from=export)  # fmt: skip
    assert Pipeline.objects.get(is_default=True) == projects
    assert projects.stages.count() == 7 and projects.stages.get(key="quoted").probability == 30


# --- samples ------------------------------------------------------------------------------------


def test_sample_sent_appears_on_the_timeline(make_sample, alice, acme):
    from tradecrm.customers.services import contact_create

    jane = contact_create(actor=alice, company=acme, data={"first_name": "Jane"})
    sample = make_sample(contact=jane.pk)
    services.sample_mark_sent(actor=alice, sample=sample, version=1, data={
        "courier": "dhl", "tracking_number": "1234567890", "cost": "45.50", "cost_currency": "USD", "paid_by": "us",
    })  # fmt: skip
    sample.refresh_from_db()
    entry = sample.interaction
    assert (sample.status, sample.sent_on, sample.cost) == ("sent", NOW.date(), Decimal("45.50"))
    assert (entry.type, entry.direction, entry.company, entry.contact) == ("sample", "out", acme, jane)
    assert entry.subject == "Sample sent by DHL, tracking 1234567890"
    assert "2 pieces · LED panel 600x600" in entry.body
    assert Company.objects.get(pk=acme.pk).last_contact_at is None  # a parcel is not a contact


def test_sample_steps_received_feedback_and_rules(make_sample, alice):
    sample = make_sample()
    with pytest.raises(ValidationError):
        services.sample_mark_received(actor=alice, sample=sample, version=1, data={})
    services.sample_mark_sent(
        actor=alice, sample=sample, version=1, data={"courier": "sf", "sent_on": "2026-03-02"}
    )
    with pytest.raises(ValidationError) as exc:
        services.sample_mark_received(
            actor=alice, sample=sample, version=2, data={"received_on": "2026-03-01"}
        )
    assert "received_on" in exc.value.message_dict
    services.sample_mark_received(actor=alice, sample=sample, version=2, data={"received_on": "2026-03-04"})
    with pytest.raises(ValidationError) as exc:
        services.sample_feedback(actor=alice, sample=sample, version=3, data={"feedback_rating": 6})
    assert exc.value.message_dict == {"feedback_rating": ["Enter a whole number from 1 to 5."]}
    services.sample_feedback(
        actor=alice, sample=sample, version=3, data={"feedback_rating": 4, "feedback": "Good"}
    )
    sample.refresh_from_db()
    assert (sample.status, sample.feedback_rating, sample.received_on) == ("feedback", 4, dt.date(2026, 3, 4))


def test_sample_items_need_positive_quantities(make_sample):
    with pytest.raises(ValidationError) as exc:
        make_sample(items=[{"description": "Panel", "quantity": "-2"}])
    assert exc.value.message_dict == {"items": ["Quantity must be greater than zero (line 1)."]}
    assert not Sample.objects.exists()
