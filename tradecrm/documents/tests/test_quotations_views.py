"""HTML pages of quotations and proforma invoices: lists, details with their actions, the form and
its htmx line editor, the customer card; 404 for dave on every page that loads by id; margin only
for managers; the PDF link only once the print URL exists."""

import re
from decimal import Decimal as D

import pytest
from django.urls import NoReverseMatch, reverse

from tradecrm.documents.models import ProformaInvoice, Quotation
from tradecrm.documents.services import proforma_from_quotation, quotation_submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def form_data(**header):
    data = {"currency": "USD", "document_date": "2026-03-04", "valid_until": "2026-04-03", "language": "en",
            "incoterm": "FOB", "incoterm_place": "Ningbo", "version": ""}  # fmt: skip
    data.update(header)
    return data


def rows(*lines):
    out = {}
    for i, line in enumerate(lines):
        for k, v in line.items():
            out[f"lines-{i}-{k}"] = v
    return out


def test_list_and_detail(client_for, alice, issued, make_quotation):
    q = issued()
    make_quotation()
    c = client_for(alice)
    page = c.get(reverse("documents:quotation_list"))
    assert page.status_code == 200 and "Q-2026-0001" in page.content.decode()
    assert page.content.decode().count('data-testid="doc-status"') == 2
    only = c.get(reverse("documents:quotation_list") + "?status=draft", HTTP_HX_REQUEST="true")
    assert "Q-2026-0001" not in only.content.decode() and "draft #" in only.content.decode()
    detail = c.get(reverse("documents:quotation_detail", args=[q.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200 and "Q-2026-0001" in html and "LED tube T8 18W" in html
    assert 'data-testid="doc-containers">1 × 20GP' in html
    assert (
        'data-testid="accept"' in html and 'data-testid="revise"' in html and 'data-testid="edit"' not in html
    )


def test_margin_panel_only_for_cost_roles(client_for, alice, carol, make_quotation, rates):
    q = make_quotation()
    url = reverse("documents:quotation_detail", args=[q.pk])
    assert 'data-testid="doc-margin"' not in client_for(alice).get(url).content.decode()
    html = client_for(carol).get(url).content.decode()
    assert 'data-testid="doc-margin"' in html and "5,478.00 CNY" in html


def test_pdf_link_follows_the_print_url(client_for, alice, issued):
    q = issued()
    html = client_for(alice).get(reverse("documents:quotation_detail", args=[q.pk])).content.decode()
    try:
        reverse("documents_print:quotation_pdf", args=[q.pk])
    except NoReverseMatch:
        assert 'data-testid="pdf-links"' not in html
    else:
        assert "?lang=zh-hans" in html and "?lang=bilingual" in html


def test_create_with_the_form(client_for, alice, acme, lamp, seller):
    c = client_for(alice)
    url = reverse("documents:quotation_create") + f"?company={acme.pk}"
    page = c.get(url)
    assert page.status_code == 200 and 'data-testid="line-editor"' in page.content.decode()
    data = form_data(**rows({"product": str(lamp.pk), "name": "LED tube T8 18W", "sku": "LED-T8", "quantity": "48",
                             "unit_price": "2", "unit": "pcs", "units_per_carton": "24",
                             "carton_gross_weight_kg": "12.5", "carton_net_weight_kg": "11", "carton_cbm": "0.0625"},
                            {"name": "Stand", "quantity": "1", "unit_price": "50", "unit": "set"}))  # fmt: skip
    r = c.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    q = Quotation.objects.get()
    assert r["Location"] == reverse("documents:quotation_detail", args=[q.pk])
    assert q.company == acme and q.total_amount == D("146.00") and q.total_cartons == 2
    assert q.lines.get(position=1).unit_cost_cny == D("11.3000")  # copied from the product


def test_a_bad_line_is_shown_on_its_row_and_nothing_saved(client_for, alice, acme):
    c = client_for(alice)
    url = reverse("documents:quotation_create") + f"?company={acme.pk}"
    data = form_data(**rows({"name": "A", "quantity": "1", "unit_price": "1", "unit": "pcs"},
                            {"name": "B", "quantity": "0", "unit_price": "1", "unit": "pcs"}))  # fmt: skip
    data["currency"] = "XXX"
    r = c.post(url, data)
    html = r.content.decode()
    assert r.status_code == 422
    assert "Line 2: quantity must be greater than zero." in html
    assert not Quotation.objects.exists()


def test_line_editor_recalculates_adds_and_removes(client_for, alice, lamp):
    c = client_for(alice)
    url = reverse("documents:line_editor")
    base = {"currency": "USD", "document_date": "2026-03-04"}
    r = c.post(url, {**base, **rows({"name": "A", "quantity": "10", "unit_price": "2.5", "unit": "pcs"})})
    assert r.status_code == 200 and 'data-testid="editor-total">25.00 USD' in r.content.decode()
    r = c.post(url, {**base, **rows({"name": "A", "quantity": "10", "unit_price": "2.5", "unit": "pcs"}),
                     "add_product": str(lamp.pk)})  # fmt: skip
    html = r.content.decode()
    assert html.count('data-testid="line-row"') == 2 and 'value="LED-T8"' in html and 'value="0.0625"' in html
    r = c.post(url, {**base, **rows({"name": "A", "quantity": "-1", "unit_price": "1"}, {"name": "B",
                     "quantity": "1", "unit_price": "4"}), "remove": "5"})  # fmt: skip
    assert "Line 1: quantity must be greater than zero." in r.content.decode()
    r = c.post(url, {**base, **rows({"name": "A", "quantity": "1", "unit_price": "1"},
                                    {"name": "B", "quantity": "1", "unit_price": "4"}), "remove": "0"})  # fmt: skip
    assert r.content.decode().count('data-testid="line-row"') == 1 and "4.00 USD" in r.content.decode()


def test_edit_keeps_line_costs_for_a_sales_rep(client_for, alice, make_quotation):
    q = make_quotation()
    c = client_for(alice)
    url = reverse("documents:quotation_edit", args=[q.pk])
    page = c.get(url).content.decode()
    assert "unit_cost_cny" not in page  # no cost inputs for sales
    first, second = q.lines.order_by("position")
    data = form_data(version="1", **rows(
        {"id": str(first.pk), "product": str(first.product_id), "name": first.name, "quantity": "24",
         "unit_price": "2", "unit": "pcs", "units_per_carton": "24", "carton_gross_weight_kg": "12.5",
         "carton_net_weight_kg": "11", "carton_cbm": "0.0625"},
    ))  # fmt: skip
    r = c.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    q.refresh_from_db()
    line = q.lines.get()
    assert (line.pk, line.quantity, line.unit_cost_cny, line.cartons) == (first.pk, D("24"), D("11.3000"), 1)
    assert q.version == 2 and q.total_amount == D("48.00")


def test_stale_edit_is_409(client_for, alice, make_quotation):
    q = make_quotation(lines=[{"name": "A", "quantity": "1", "unit_price": "1"}])
    Quotation.objects.filter(pk=q.pk).update(version=5)
    r = client_for(alice).post(reverse("documents:quotation_edit", args=[q.pk]),
                               form_data(version="1", **rows({"name": "A", "quantity": "2", "unit_price": "1"})))  # fmt: skip
    assert r.status_code == 409 and 'data-testid="form-error"' in r.content.decode()


def test_edit_of_an_issued_quotation_is_refused(client_for, alice, issued):
    q = issued()
    c = client_for(alice)
    r = c.get(reverse("documents:quotation_edit", args=[q.pk]), follow=True)
    assert "Quotation Q-2026-0001 is issued and cannot be changed; make a revision." in r.content.decode()
    r = c.post(reverse("documents:quotation_edit", args=[q.pk]), form_data(version="2"))
    assert r.status_code == 302 and Quotation.objects.get(pk=q.pk).version == 2


def test_actions_issue_revise_and_make_proforma(client_for, alice, make_quotation, rates, usd_account):
    q = make_quotation()
    c = client_for(alice)
    r = c.post(reverse("documents:quotation_action", args=[q.pk, "issue"]), {"version": "1"})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.number == "Q-2026-0001"
    r = c.post(reverse("documents:quotation_action", args=[q.pk, "revise"]))
    new = Quotation.objects.get(previous=q)
    assert r["Location"] == reverse("documents:quotation_detail", args=[new.pk])
    r = c.post(reverse("documents:quotation_action", args=[q.pk, "proforma"]))
    pi = ProformaInvoice.objects.get()
    assert r["Location"] == reverse("documents:proforma_detail", args=[pi.pk])
    page = c.get(r["Location"]).content.decode()
    assert "BKCHCNBJ92A" in page and 'data-testid="issue"' in page
    c.post(reverse("documents:proforma_action", args=[pi.pk, "issue"]), {"version": "1"})
    page = c.get(r["Location"]).content.decode()
    assert "PI-2026-0001" in page and 'data-testid="pi-deposit"' in page
    assert 'data-testid="make-order"' in page and 'data-testid="order-link"' not in page
    made = c.post(reverse("orders:create_from_proforma", args=[pi.pk]))
    order = pi.orders.get()
    assert made["Location"] == reverse("orders:order_detail", args=[order.pk])
    page = c.get(r["Location"]).content.decode()  # the PI now links its order instead
    assert 'data-testid="make-order"' not in page and f"Order {order.number}" in page


def test_refused_action_shows_the_reason(client_for, alice, make_quotation):
    q = make_quotation(currency="GBP")
    r = client_for(alice).post(reverse("documents:quotation_action", args=[q.pk, "issue"]), {"version": "1"},
                               follow=True)  # fmt: skip
    assert "No exchange rate GBP→USD" in r.content.decode()
    assert Quotation.objects.get(pk=q.pk).status == "draft"


def test_manager_sends_back_with_a_note(client_for, alice, carol, make_quotation):
    q = make_quotation()
    quotation_submit(actor=alice, quotation=q)
    page = client_for(alice).get(reverse("documents:quotation_detail", args=[q.pk])).content.decode()
    assert 'data-testid="approve"' not in page
    c = client_for(carol)
    c.post(reverse("documents:quotation_action", args=[q.pk, "reject-approval"]), {"note": "Raise the price"})
    page = client_for(alice).get(reverse("documents:quotation_detail", args=[q.pk])).content.decode()
    assert 'data-testid="approval-note"' in page and "Raise the price" in page


def test_company_panel(client_for, alice, acme, issued):
    issued()
    html = client_for(alice).get(reverse("documents:company_panel", args=[acme.pk])).content.decode()
    assert "Q-2026-0001" in html
    detail = client_for(alice).get(reverse("customers:company_detail", args=[acme.pk])).content.decode()
    assert reverse("documents:company_panel", args=[acme.pk]) in detail
    assert reverse("documents:quotation_create") + f"?company={acme.pk}" in detail


def test_new_quotation_from_an_opportunity(client_for, alice, acme):
    from django.utils import timezone

    from tradecrm.sales.models import Opportunity, Pipeline, Stage

    pipeline = Pipeline.objects.create(name="Projects")
    stage = Stage.objects.create(pipeline=pipeline, name="Open", position=1)
    opp = Opportunity.objects.create(name="Tubes 2026", company=acme, pipeline=pipeline, stage=stage,
                                     currency="EUR", owner=alice, stage_entered_at=timezone.now())  # fmt: skip
    html = (
        client_for(alice)
        .get(reverse("documents:quotation_create") + f"?opportunity={opp.pk}")
        .content.decode()
    )
    assert re.search(rf'<option value="{opp.pk}" selected>Tubes 2026', html)
    assert re.search(r'<option value="EUR" selected>', html)


def _pi(alice, q):
    return proforma_from_quotation(actor=alice, quotation=q)


@pytest.mark.parametrize(
    "name,method,kind",
    [
        ("documents:quotation_detail", "get", "q"), ("documents:quotation_edit", "get", "q"),
        ("documents:quotation_edit", "post", "q"), ("documents:quotation_delete", "post", "q"),
        ("documents:quotation_action:issue", "post", "q"), ("documents:quotation_action:revise", "post", "q"),
        ("documents:quotation_action:proforma", "post", "q"), ("documents:proforma_detail", "get", "p"),
        ("documents:proforma_edit", "get", "p"), ("documents:proforma_delete", "post", "p"),
        ("documents:proforma_action:issue", "post", "p"), ("documents:company_panel", "get", "c"),
    ],
)  # fmt: skip
def test_dave_gets_404_on_every_page_by_id(client_for, dave, alice, acme, issued, name, method, kind):
    q = issued()
    pi = _pi(alice, q)
    target = {"q": q.pk, "p": pi.pk, "c": acme.pk}[kind]
    parts = name.split(":")
    args = [target, parts[2]] if len(parts) == 3 else [target]
    url = reverse(":".join(parts[:2]), args=args)
    r = getattr(client_for(dave), method)(url, {"version": "1"} if method == "post" else None)
    assert r.status_code == 404
    assert ProformaInvoice.objects.count() == 1 and Quotation.objects.count() == 1
    assert Quotation.objects.get(pk=q.pk).status == "issued"


def test_dave_cannot_start_a_quotation_for_alices_customer(client_for, dave, acme):
    assert (
        client_for(dave).get(reverse("documents:quotation_create") + f"?company={acme.pk}").status_code == 404
    )
