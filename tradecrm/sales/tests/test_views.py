"""Sales web UI: 404 for dave on every view that loads an object by id, the board (render, drag a
card with htmx, a lost column without a reason, a stale version re-renders the board, "more" per
column), inquiry forms with item rows, the convert page, samples, the customer panel, admin pages."""

import pytest
from django.urls import reverse

from tradecrm.interactions.models import Interaction
from tradecrm.sales import services
from tradecrm.sales.models import Inquiry, LossReason, Opportunity, Sample

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(make_inquiry, make_opp, make_sample, acme, export):
    inquiry = make_inquiry(company=acme.pk)
    return {"inquiry": inquiry, "opp": make_opp(), "sample": make_sample(), "company": acme, "export": export}


def _object_urls(w):
    i, o, s, c, _p = w["inquiry"].pk, w["opp"].pk, w["sample"].pk, w["company"].pk, w["export"]
    return [
        ("get", reverse("sales:inquiry_detail", args=[i])),
        ("get", reverse("sales:inquiry_edit", args=[i])),
        ("post", reverse("sales:inquiry_edit", args=[i])),
        ("post", reverse("sales:inquiry_status", args=[i])),
        ("get", reverse("sales:inquiry_convert", args=[i])),
        ("post", reverse("sales:inquiry_convert", args=[i])),
        ("get", reverse("sales:inquiry_delete", args=[i])),
        ("post", reverse("sales:inquiry_delete", args=[i])),
        ("get", reverse("sales:opportunity_detail", args=[o])),
        ("get", reverse("sales:opportunity_edit", args=[o])),
        ("post", reverse("sales:opportunity_edit", args=[o])),
        ("post", reverse("sales:opportunity_move", args=[o])),
        ("get", reverse("sales:opportunity_delete", args=[o])),
        ("post", reverse("sales:opportunity_delete", args=[o])),
        ("get", reverse("sales:opportunity_create") + f"?company={c}"),
        ("get", reverse("sales:sample_detail", args=[s])),
        ("get", reverse("sales:sample_edit", args=[s])),
        ("post", reverse("sales:sample_edit", args=[s])),
        ("post", reverse("sales:sample_sent", args=[s])),
        ("post", reverse("sales:sample_received", args=[s])),
        ("post", reverse("sales:sample_feedback", args=[s])),
        ("post", reverse("sales:sample_action", args=[s, "cancel"])),
        ("get", reverse("sales:sample_delete", args=[s])),
        ("post", reverse("sales:sample_delete", args=[s])),
        ("get", reverse("sales:sample_create") + f"?company={c}"),
        ("get", reverse("sales:inquiry_create") + f"?company={c}"),
        ("get", reverse("sales:company_panel", args=[c])),
    ]


@pytest.mark.parametrize("persona", ["dave", "bob"])
def test_other_users_get_404_on_every_object_view(request, client_for, world, persona):
    c = client_for(request.getfixturevalue(persona))
    for method, url in _object_urls(world):
        if method == "get":
            r = c.get(url)
        else:
            r = c.post(url, {"version": 1, "stage": world["export"].by_key["won"].pk, "courier": "dhl",
                             "status": "spam", "name": "x"})  # fmt: skip
        assert r.status_code == 404, (method, url)
    assert Inquiry.objects.get(pk=world["inquiry"].pk).status == "new"
    o = Opportunity.objects.get(pk=world["opp"].pk)
    assert (o.status, o.version, o.name) == ("open", 1, "LED panels for Chicago warehouse")
    assert Sample.objects.get(pk=world["sample"].pk).status == "requested"


def test_dave_does_not_see_the_deals_on_lists_and_board(client_for, world, dave):
    c = client_for(dave)
    assert "LED panels" not in c.get(reverse("sales:opportunity_list")).content.decode()
    assert "LED panel lights" not in c.get(reverse("sales:inquiry_list")).content.decode()
    assert "LED panels" not in c.get(reverse("sales:board_default")).content.decode()
    assert c.get(reverse("sales:sample_list")).content.decode().count('data-testid="sample-row"') == 0


def test_owner_and_manager_open_every_page(client_for, world, alice, carol, admin):
    for user in (alice, carol):
        c = client_for(user)
        for method, url in _object_urls(world):
            if method == "get":
                assert c.get(url).status_code == 200, url
    c = client_for(alice)
    for name in (
        "inquiry_list",
        "opportunity_list",
        "board_default",
        "forecast",
        "sample_list",
        "opportunity_create",
    ):
        assert c.get(reverse(f"sales:{name}")).status_code == 200, name
    assert c.get(reverse("sales:pipeline_insights", args=[world["export"].pk])).status_code == 200
    assert c.get(reverse("sales:pipeline_admin")).status_code == 403
    assert client_for(admin).get(reverse("sales:pipeline_admin")).status_code == 200


def test_board_page_loads_sortable_and_shows_cards(client_for, world, alice):
    html = client_for(alice).get(reverse("sales:board_default")).content.decode()
    assert "vendor/sortablejs/Sortable.min.js" in html and "sales/board.js" in html
    assert html.count('data-testid="board-column"') == 7
    assert html.count('data-testid="board-card"') == 1 and "LED panels for Chicago warehouse" in html
    assert 'data-testid="loss-dialog"' in html


def test_drag_a_card_to_another_column(client_for, world, alice):
    o, export = world["opp"], world["export"]
    other = services.opportunity_create(actor=alice, data={"name": "Other", "company": world["company"].pk,
                                                           "currency": "USD", "stage": export.by_key["quoted"].pk})  # fmt: skip
    r = client_for(alice).post(reverse("sales:opportunity_move", args=[o.pk]),
                               {"stage": export.by_key["quoted"].pk, "version": 1, "after": other.pk}, **HX)  # fmt: skip
    assert r.status_code == 200
    html = r.content.decode()
    assert f'id="card-{o.pk}"' in html and 'data-version="2"' in html
    assert html.count('hx-swap-oob="true"') == 2  # both column heads
    o.refresh_from_db()
    assert o.stage.key == "quoted" and o.position < other.position


def test_dropping_into_lost_without_a_reason_rerenders_the_board(client_for, world, alice):
    o, export = world["opp"], world["export"]
    r = client_for(alice).post(reverse("sales:opportunity_move", args=[o.pk]),
                               {"stage": export.by_key["lost"].pk, "version": 1}, **HX)  # fmt: skip
    assert r.status_code == 422 and r["HX-Retarget"] == "#board"
    assert "Choose why the opportunity was lost." in r.content.decode()
    assert Opportunity.objects.get(pk=o.pk).status == "open"
    reason = LossReason.objects.get(key="competitor")
    r = client_for(alice).post(reverse("sales:opportunity_move", args=[o.pk]),
                               {"stage": export.by_key["lost"].pk, "version": 1, "loss_reason": reason.pk}, **HX)  # fmt: skip
    assert r.status_code == 200 and Opportunity.objects.get(pk=o.pk).loss_reason == reason


def test_a_stale_version_on_the_board_answers_409_with_the_board(client_for, world, alice):
    o, export = world["opp"], world["export"]
    services.opportunity_update(actor=alice, opportunity=o, version=1, data={"name": "Renamed meanwhile"})
    r = client_for(alice).post(reverse("sales:opportunity_move", args=[o.pk]),
                               {"stage": export.by_key["quoted"].pk, "version": 1}, **HX)  # fmt: skip
    assert r.status_code == 409 and r["HX-Reswap"] == "outerHTML"
    html = r.content.decode()
    assert 'data-testid="board-notice"' in html and "Renamed meanwhile" in html
    assert Opportunity.objects.get(pk=o.pk).stage.key == "inquiry"


def test_more_cards_per_column(client_for, make_opp, alice, export):
    for i in range(23):
        make_opp(name=f"Deal {i:02d}")
    c = client_for(alice)
    html = c.get(reverse("sales:board_default")).content.decode()
    assert html.count('data-testid="board-card"') == 20 and 'data-testid="column-more"' in html
    import re

    url = (
        re.search(r'hx-get="(/pipelines/\d+/board/\d+/\?cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    )
    more = c.get(url, **HX).content.decode()
    assert more.count('data-testid="board-card"') == 3 and 'hx-swap-oob="true"' in more
    assert "Deal 00" in more and "column-more" not in more


def test_inquiry_form_with_item_rows_and_a_bad_quantity(client_for, alice):
    c = client_for(alice)
    data = {"channel": "website", "buyer_company": "Nordic Build AB", "buyer_email": "anna@nordicbuild.se",
            "subject": "Steel valves", "item-0-description": "Valve DN50", "item-0-quantity": "200",
            "item-0-unit": "pcs", "item-0-target_price": "12.5", "item-1-description": "Valve DN80",
            "item-1-quantity": "0", "item-2-description": ""}  # fmt: skip
    r = c.post(reverse("sales:inquiry_create"), data)
    assert r.status_code == 422 and "Quantity must be greater than zero (line 2)." in r.content.decode()
    assert not Inquiry.objects.exists()
    data["item-1-quantity"] = "50"
    r = c.post(reverse("sales:inquiry_create"), data)
    inquiry = Inquiry.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("sales:inquiry_detail", args=[inquiry.pk])
    assert list(inquiry.items.values_list("description", flat=True)) == ["Valve DN50", "Valve DN80"]


def test_convert_page_shows_duplicates_and_converts_to_an_existing_customer(client_for, make_inquiry, make_company,
                                                                           alice):  # fmt: skip
    twin = make_company(name="Smith Trading GmbH", country="DE")
    inquiry = make_inquiry()
    c = client_for(alice)
    html = c.get(reverse("sales:inquiry_convert", args=[inquiry.pk])).content.decode()
    assert 'data-testid="duplicate"' in html and f'value="{twin.pk}"' in html
    assert 'value="Smith Trading GmbH"' in html  # new customer prefilled from the buyer
    r = c.post(reverse("sales:inquiry_convert", args=[inquiry.pk]), {
        "mode": "existing", "company": twin.pk, "add_contact": "on", "contact_first_name": "John",
        "contact_last_name": "Smith", "contact_email": "john@smith-trading.de", "pipeline": "",
        "opportunity_name": "Panels for Munich", "amount": "9000", "currency": "EUR", "version": 1,
    })  # fmt: skip
    opp = Opportunity.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("sales:opportunity_detail", args=[opp.pk])
    assert (opp.company, opp.name, str(opp.amount), opp.currency) == (
        twin,
        "Panels for Munich",
        "9000.00",
        "EUR",
    )
    assert opp.contact.emails == ["john@smith-trading.de"]
    # a second visit goes to the opportunity
    assert c.get(reverse("sales:inquiry_convert", args=[inquiry.pk]))["Location"].endswith(
        f"/opportunities/{opp.pk}/"
    )


def test_convert_page_refuses_a_customer_dave_cannot_see(client_for, make_inquiry, dave, acme):
    inquiry = make_inquiry(actor=dave)
    r = client_for(dave).post(reverse("sales:inquiry_convert", args=[inquiry.pk]),
                              {"mode": "existing", "company": acme.pk, "currency": "USD", "version": 1})  # fmt: skip
    assert r.status_code == 422 and f"No customer with id {acme.pk}." in r.content.decode()
    assert not Opportunity.objects.exists()


def test_company_lookup_lists_only_visible_customers(client_for, make_company, alice, dave):
    make_company(name="Visible Ltd")
    make_company(actor=dave, name="Visible Hidden Ltd")
    html = client_for(alice).get(reverse("sales:company_lookup"), {"q": "visible"}).content.decode()
    assert "Visible Ltd" in html and "Hidden" not in html


def test_sample_sent_from_the_page_lands_on_the_timeline(client_for, world, alice):
    s = world["sample"]
    r = client_for(alice).post(reverse("sales:sample_sent", args=[s.pk]),
                               {"courier": "fedex", "tracking_number": "7777", "version": 1})  # fmt: skip
    assert r.status_code == 302
    entry = Interaction.objects.get(type="sample")
    assert entry.subject == "Sample sent by FedEx, tracking 7777" and entry.company == world["company"]
    r = client_for(alice).post(reverse("sales:sample_sent", args=[s.pk]), {"courier": "", "version": 2})
    assert r.status_code == 422


def test_customer_page_panel_is_lazy_and_lists_deals(client_for, world, alice):
    c = client_for(alice)
    page = c.get(reverse("customers:company_detail", args=[world["company"].pk])).content.decode()
    assert reverse("sales:company_panel", args=[world["company"].pk]) in page
    body = c.get(reverse("sales:company_panel", args=[world["company"].pk]), **HX).content.decode()
    assert "LED panels for Chicago warehouse" in body and "LED panel lights 600x600" in body
    assert "Requested 2026-03-04" in body


def test_forecast_page(client_for, make_opp, alice):
    make_opp(amount="5000", expected_close_date="2026-05-02")
    html = client_for(alice).get(reverse("sales:forecast")).content.decode()
    assert "2026-05" in html and "$500.00" in html  # 5000 × 10 %


def test_pipeline_admin_add_stage_and_refuse_deleting_a_full_one(client_for, world, admin):
    c = client_for(admin)
    export = world["export"]
    r = c.post(reverse("sales:stage_create", args=[export.pk]), {"name": "Trial order", "probability": "80",
                                                                 "kind": "open", "stale_days": "21"})  # fmt: skip
    assert r.status_code == 302 and export.stages.filter(name="Trial order", stale_days=21).exists()
    r = c.post(reverse("sales:stage_delete", args=[export.by_key["inquiry"].pk]), follow=True)
    assert "holds 1 opportunities" in r.content.decode()
    assert export.stages.filter(key="inquiry").exists()


def test_saving_a_seeded_stage_unrenamed_keeps_its_english_name(client_for, admin, export, monkeypatch):
    from tradecrm.sales import defaults

    quoted = export.by_key["quoted"]
    monkeypatch.setitem(
        defaults.STAGES, "quoted", ("Quoted", "已报价", 30, "open", 14)
    )  # as a catalogue would
    c = client_for(admin)
    assert 'value="已报价"' in c.get(reverse("sales:stage_edit", args=[quoted.pk])).content.decode()
    r = c.post(reverse("sales:stage_edit", args=[quoted.pk]),
               {"name": "已报价", "probability": "35", "kind": "open", "stale_days": "10"})  # fmt: skip
    assert r.status_code == 302
    quoted.refresh_from_db()
    assert (quoted.name, quoted.probability, quoted.stale_days) == ("Quoted", 35, 10)


def test_a_quotation_starts_from_an_open_opportunity_or_a_linked_inquiry(client_for, world, alice):
    c = client_for(alice)
    opp, inquiry = world["opp"], world["inquiry"]
    page = c.get(reverse("sales:opportunity_detail", args=[opp.pk])).content.decode()
    assert f'{reverse("documents:quotation_create")}?opportunity={opp.pk}' in page
    page = c.get(reverse("sales:inquiry_detail", args=[inquiry.pk])).content.decode()
    assert f'{reverse("documents:quotation_create")}?inquiry={inquiry.pk}' in page
    form = c.get(reverse("documents:quotation_create") + f"?opportunity={opp.pk}")
    assert form.status_code == 200 and opp.company.name in form.content.decode()
