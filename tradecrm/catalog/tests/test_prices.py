"""Price lists: validation, prices with quantity breaks, and `price_for` (the active list in the
currency valid on the date, the best break for the quantity) that quotations call."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.catalog import selectors, services
from tradecrm.catalog.models import PriceList, PriceListItem
from tradecrm.core.errors import ConcurrentEditError

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def usd(carol):
    return services.price_list_create(
        actor=carol,
        data={
            "name": "FOB Ningbo USD 2026",
            "currency": "usd",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },  # fmt: skip
    )


def _set(carol, pl, product, price, qty=1):
    return services.price_set(actor=carol, price_list=pl, product=product, unit_price=price, min_quantity=qty)


def test_price_list_validation_names_every_field(carol):
    services.price_list_create(actor=carol, data={"name": "EU EUR", "currency": "EUR"})
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(
            actor=carol,
            data={
                "name": "eu eur",
                "currency": "EURO",
                "valid_from": "2026-06-01",
                "valid_until": "2026-05-31",
            },
        )
    errors = exc.value.message_dict
    assert errors["name"] == ["There is already a price list called “eu eur”."]
    assert errors["currency"] == ["“EURO” is not an ISO 4217 currency code."]
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(
            actor=carol,
            data={"name": "X", "currency": "USD", "valid_from": "2026-06-01", "valid_until": "2026-05-31"},
        )
    assert exc.value.message_dict == {
        "valid_until": ["The price list cannot end (2026-05-31) before it starts (2026-06-01)."]
    }
    assert PriceList.objects.count() == 1


def test_price_set_replaces_the_same_break_and_refuses_bad_values(carol, usd, flask):
    first = _set(carol, usd, flask, "5.80")
    again = _set(carol, usd, flask, "5.60")
    assert first.pk == again.pk and PriceListItem.objects.get().unit_price == D("5.6")
    _set(carol, usd, flask, "5.20", 1000)
    assert PriceListItem.objects.count() == 2
    usd.refresh_from_db()
    assert usd.version == 4  # each price change moves the list's version (its ETag)
    with pytest.raises(ValidationError) as exc:
        _set(carol, usd, flask, "-1", "0")
    assert exc.value.message_dict == {
        "unit_price": ["Enter a number of at least 0."],
        "min_quantity": ["Enter a number greater than 0."],
    }
    assert PriceListItem.objects.count() == 2
    assert AuditEvent.objects.filter(action="price.set").count() == 3


def test_price_for_picks_the_best_break_for_the_quantity(carol, usd, flask):
    _set(carol, usd, flask, "5.80", 1)
    _set(carol, usd, flask, "5.50", 1000)
    _set(carol, usd, flask, "5.20", 5000)
    day = dt.date(2026, 3, 1)
    assert selectors.price_for(flask, "USD", 1, day) == D("5.80")
    assert selectors.price_for(flask, "USD", D("999.5"), day) == D("5.80")
    assert selectors.price_for(flask, "USD", 1000, day) == D("5.50")
    assert selectors.price_for(flask, "usd", 4999, day) == D("5.50")
    assert selectors.price_for(flask, "USD", 20000, day) == D("5.20")
    assert selectors.price_for(flask, "EUR", 1000, day) is None  # no list in that currency
    match = selectors.price_lookup(flask, "USD", 1200, day)
    assert (match.min_quantity, match.price_list_name) == (D("1000"), "FOB Ningbo USD 2026")
    assert services.price_for is selectors.price_for  # quotations may import it from either module


def test_price_for_respects_validity_activity_and_the_latest_list(carol, usd, flask):
    _set(carol, usd, flask, "5.80")
    newer = services.price_list_create(
        actor=carol, data={"name": "USD from July", "currency": "USD", "valid_from": "2026-07-01"}
    )
    _set(carol, newer, flask, "6.10")
    assert selectors.price_for(flask, "USD", 10, dt.date(2025, 12, 31)) is None  # before both lists
    assert selectors.price_for(flask, "USD", 10, dt.date(2026, 6, 30)) == D("5.80")
    assert selectors.price_for(flask, "USD", 10, dt.date(2026, 7, 1)) == D("6.10")  # the one started last
    assert selectors.price_for(flask, "USD", 10, dt.date(2027, 1, 1)) == D("6.10")  # the 2026 list ended
    services.price_list_update(actor=carol, price_list=newer, version=newer.version, data={"active": False})
    assert selectors.price_for(flask, "USD", 10, dt.date(2026, 7, 1)) == D("5.80")


def test_quantity_below_every_break_has_no_price(carol, usd, flask):
    _set(carol, usd, flask, "5.50", 500)
    assert selectors.price_for(flask, "USD", 100, dt.date(2026, 3, 1)) is None


def test_current_prices_for_the_picker(carol, alice, usd, flask):
    _set(carol, usd, flask, "5.80", 1)
    _set(carol, usd, flask, "5.50", 1000)
    items = selectors.products_for_picker(alice, "flask", on_date=dt.date(2026, 3, 1))
    assert len(items) == 1
    usd_price = items[0]["prices"]["USD"]
    assert usd_price["unit_price"] == D("5.80") and usd_price["price_list"]["name"] == "FOB Ningbo USD 2026"
    assert [b["min_quantity"] for b in usd_price["breaks"]] == [D("1"), D("1000")]
    assert items[0]["packing"]["cbm"] == D("0.0473") and items[0]["packing"]["units_per_carton"] == 24
    assert "cost" not in items[0]  # alice is a sales rep
    assert selectors.products_for_picker(carol, "保温")[0]["cost"]["purchase_cost_cny"] == D("28.5")


def test_price_list_update_is_versioned_and_editors_only(carol, alice, usd):
    services.price_list_update(actor=carol, price_list=usd, version=1, data={"notes": "FOB"})
    with pytest.raises(ConcurrentEditError):
        services.price_list_update(
            actor=carol, price_list=PriceList.objects.get(), version=1, data={"notes": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.price_list_delete(actor=alice, price_list=usd)
    services.price_list_delete(actor=carol, price_list=usd)
    assert not PriceList.objects.exists()
