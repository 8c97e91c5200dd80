"""/api/v1/inquiries, /opportunities, /pipelines, /samples: 404 for dave on every id, convert,
move (409 on a stale version, 422 naming the field), the board and the forecast, sample steps,
keyset lists; responses validated against the documented schemas."""

import datetime as dt

import pytest

from tradecrm.interactions.models import Interaction
from tradecrm.sales.models import Inquiry, LossReason, Opportunity, Sample
from tradecrm.sales.schemas import (
    BoardOut,
    ConvertOut,
    ForecastOut,
    InquiryOut,
    InquiryPage,
    OpportunityOut,
    OpportunityPage,
    PipelinePage,
    SampleOut,
    SamplePage,
)

from .conftest import call, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_inquiry, make_opp, make_sample, acme, export):
    return {
        "inquiry": make_inquiry(company=acme.pk),
        "opp": make_opp(),
        "sample": make_sample(),
        "export": export,
    }


BY_ID = [
    ("get", "/api/v1/inquiries/{inquiry}", None, 200),
    ("patch", "/api/v1/inquiries/{inquiry}", {"subject": "x", "version": 1}, 200),
    ("post", "/api/v1/inquiries/{inquiry}/reply", {"version": 1}, 200),
    ("post", "/api/v1/inquiries/{inquiry}/convert", {}, 201),
    ("delete", "/api/v1/inquiries/{inquiry}", None, 204),
    ("get", "/api/v1/opportunities/{opp}", None, 200),
    ("patch", "/api/v1/opportunities/{opp}", {"name": "x", "version": 1}, 200),
    ("post", "/api/v1/opportunities/{opp}/move", {"stage": "{quoted}", "version": 1}, 200),
    ("delete", "/api/v1/opportunities/{opp}", None, 204),
    ("get", "/api/v1/samples/{sample}", None, 200),
    ("patch", "/api/v1/samples/{sample}", {"notes": "x", "version": 1}, 200),
    ("post", "/api/v1/samples/{sample}/sent", {"courier": "dhl", "version": 1}, 200),
    ("post", "/api/v1/samples/{sample}/cancel", {"version": 1}, 200),
    ("delete", "/api/v1/samples/{sample}", None, 204),
    ("get", "/api/v1/inquiries?company_id={company}", None, 200),
    ("get", "/api/v1/opportunities?company_id={company}", None, 200),
    ("get", "/api/v1/samples?company_id={company}", None, 200),
]


@pytest.mark.parametrize("method,url,body,ok", BY_ID, ids=[f"{m} {u}" for m, u, _b, _o in BY_ID])
@pytest.mark.parametrize("persona,allowed", [("dave", False), ("carol", True)])
def test_every_by_id_endpoint_follows_visibility(
    request, api_for, world, method, url, body, ok, persona, allowed
):
    ids = {"inquiry": world["inquiry"].pk, "opp": world["opp"].pk, "sample": world["sample"].pk,
           "company": world["opp"].company_id, "quoted": world["export"].by_key["quoted"].pk}  # fmt: skip
    if body and body.get("stage"):
        body = {**body, "stage": ids["quoted"]}
    resp = call(api_for(request.getfixturevalue(persona)), method, url.format(**ids), body)
    assert resp.status_code == (ok if allowed else 404), resp.content
    if not allowed:
        assert resp.json() == {"detail": "Not found."}
        assert Inquiry.objects.get(pk=ids["inquiry"]).version == 1
        assert Opportunity.objects.get(pk=ids["opp"]).version == 1
        assert Sample.objects.get(pk=ids["sample"]).version == 1


def test_inquiry_create_list_and_bad_quantity(api_for, alice):
    api = api_for(alice)
    bad = call(api, "post", "/api/v1/inquiries", {"channel": "alibaba", "buyer_name": "Ann",
                                                  "items": [{"description": "Panel", "quantity": -3}]})  # fmt: skip
    assert bad.status_code == 422 and fields_of(bad) == {
        "items": "Quantity must be greater than zero (line 1)."
    }
    assert not Inquiry.objects.exists()
    r = call(api, "post", "/api/v1/inquiries", {"channel": "alibaba", "buyer_name": "Ann", "target_currency": "usd",
                                                "items": [{"description": "Panel", "quantity": "300",
                                                           "target_price": 4.25}]})  # fmt: skip
    assert r.status_code == 201, r.content
    body = InquiryOut.model_validate(r.json())
    assert body.items[0].quantity == 300 and body.target_currency == "USD" and r["ETag"] == '"1"'
    page = call(api, "get", "/api/v1/inquiries?unlinked=true&owner=me").json()
    InquiryPage.model_validate(page)
    assert [i["id"] for i in page["items"]] == [body.id]


def test_convert_to_a_new_customer_and_twice_refused(api_for, make_inquiry, alice):
    inquiry = make_inquiry()
    api = api_for(alice)
    r = call(api, "post", f"/api/v1/inquiries/{inquiry.pk}/convert",
             {"opportunity": {"expected_close_date": "2026-06-30", "probability": 40}})  # fmt: skip
    assert r.status_code == 201, r.content
    out = ConvertOut.model_validate(r.json())
    assert out.inquiry.status == "converted" and out.opportunity.company.name == "Smith Trading GmbH"
    assert str(out.opportunity.amount) == "10100.00" and out.opportunity.stage.label == "Inquiry"
    assert out.opportunity.probability == 40 and out.opportunity.expected_close_date == dt.date(2026, 6, 30)
    again = call(api, "post", f"/api/v1/inquiries/{inquiry.pk}/convert", {})
    assert again.status_code == 422 and fields_of(again) == {
        "status": "This inquiry has been converted already."
    }


def test_convert_into_a_customer_dave_cannot_see_is_422(api_for, make_inquiry, dave, acme):
    inquiry = make_inquiry(actor=dave)
    r = call(api_for(dave), "post", f"/api/v1/inquiries/{inquiry.pk}/convert", {"company": acme.pk})
    assert r.status_code == 422 and fields_of(r) == {"company": f"No customer with id {acme.pk}."}
    assert not Opportunity.objects.exists()


def test_move_stale_version_409_lost_needs_reason_422(api_for, world, alice):
    api, o, export = api_for(alice), world["opp"], world["export"]
    lost = call(api, "post", f"/api/v1/opportunities/{o.pk}/move", {"stage": export.by_key["lost"].pk})
    assert lost.status_code == 422 and fields_of(lost) == {
        "loss_reason": "Choose why the opportunity was lost."
    }
    r = call(
        api, "post", f"/api/v1/opportunities/{o.pk}/move", {"stage": export.by_key["quoted"].pk, "version": 1}
    )
    assert r.status_code == 200
    out = OpportunityOut.model_validate(r.json())
    assert out.stage.label == "Quoted" and [h.stage.name for h in out.stage_history] == ["Inquiry", "Quoted"]
    stale = call(
        api, "post", f"/api/v1/opportunities/{o.pk}/move", {"stage": export.by_key["sample"].pk, "version": 1}
    )
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    reason = LossReason.objects.get(key="moq")
    r = call(api, "post", f"/api/v1/opportunities/{o.pk}/move",
             {"stage": export.by_key["lost"].pk, "loss_reason": reason.pk, "version": 2})  # fmt: skip
    assert r.json()["status"] == "lost" and r.json()["loss_reason_id"] == reason.pk


def test_patch_needs_a_version_and_refuses_changing_the_stage(api_for, world, alice):
    api, o = api_for(alice), world["opp"]
    assert call(api, "patch", f"/api/v1/opportunities/{o.pk}", {"name": "x"}).status_code == 428
    r = call(api, "patch", f"/api/v1/opportunities/{o.pk}", {"amount": "-1", "currency": "ABC", "version": 1})
    assert r.status_code == 422 and set(fields_of(r)) == {"amount", "currency"}
    assert Opportunity.objects.get(pk=o.pk).version == 1


def test_board_and_forecast(api_for, world, alice, make_opp):
    make_opp(name="Second", amount="3000", expected_close_date="2026-04-15")
    api = api_for(alice)
    board = call(api, "get", "/api/v1/opportunities/board?limit=1").json()
    BoardOut.model_validate(board)
    first = board["columns"][0]
    assert first["stage"]["key"] == "inquiry" and first["count"] == 2 and len(first["cards"]) == 1
    assert first["total"] == {"amount": "13000.00", "currency": "USD", "unconverted": {}}
    more = call(
        api,
        "get",
        f"/api/v1/opportunities/board/columns/{first['stage']['id']}?limit=5&cursor={first['next_cursor']}",
    )
    assert [c["name"] for c in more.json()["cards"]] == ["LED panels for Chicago warehouse"]
    assert (
        call(
            api, "get", f"/api/v1/opportunities/board/columns/{first['stage']['id']}?cursor=junk"
        ).status_code
        == 400
    )
    f = call(api, "get", "/api/v1/opportunities/forecast").json()
    ForecastOut.model_validate(f)
    assert f["total_weighted"]["amount"] == "1300.00"
    assert call(api_for(world["opp"].owner), "get", "/api/v1/opportunities?status=open&close_month=2026-04").json()[
        "items"][0]["name"] == "Second"  # fmt: skip
    OpportunityPage.model_validate(call(api, "get", "/api/v1/opportunities").json())


def test_samples_sent_logs_on_the_timeline_and_feedback(api_for, world, alice):
    api, s = api_for(alice), world["sample"]
    r = call(api, "post", f"/api/v1/samples/{s.pk}/sent", {"courier": "ups", "tracking_number": "1Z999", "cost": "30",
                                                           "version": 1})  # fmt: skip
    assert r.status_code == 422 and fields_of(r) == {"cost_currency": "Choose the currency of the cost."}
    r = call(
        api,
        "post",
        f"/api/v1/samples/{s.pk}/sent",
        {"courier": "ups", "tracking_number": "1Z999", "version": 1},
    )
    out = SampleOut.model_validate(r.json())
    assert (
        out.status == "sent"
        and Interaction.objects.get(pk=out.interaction_id).subject == "Sample sent by UPS, tracking 1Z999"
    )
    r = call(api, "post", f"/api/v1/samples/{s.pk}/feedback", {"feedback_rating": 5, "version": 2})
    assert r.json()["status"] == "feedback" and r.json()["feedback_rating"] == 5
    SamplePage.model_validate(call(api, "get", "/api/v1/samples?status=feedback").json())


def test_pipelines_admin_over_the_api(api_for, admin, alice, export):
    r = call(api_for(alice), "post", "/api/v1/pipelines", {"name": "Projects"})
    assert r.status_code == 403
    api = api_for(admin)
    r = call(api, "post", "/api/v1/pipelines", {"name": "Projects", "copy_stages_from": export.pk})
    assert r.status_code == 201 and len(r.json()["stages"]) == 7
    pid = r.json()["id"]
    stage = call(api, "post", f"/api/v1/pipelines/{pid}/stages", {"name": "Tender", "probability": 20}).json()
    assert stage["kind"] == "open" and stage["position"] == 5
    PipelinePage.model_validate(call(api_for(alice), "get", "/api/v1/pipelines").json())
    assert call(api_for(alice), "get", "/api/v1/pipelines/loss-reasons").json()["items"][0]["key"] == "price"
