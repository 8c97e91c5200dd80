"""Alerts from customs records: new supplier, new HS code, volume surge, sample-size purchase — as
notifications to the customer's owner, once each however often the scan runs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from tradecrm.customs.alerts import scan
from tradecrm.followups.models import Notification
from tradecrm.followups.notifications import render

from .conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def d(y, m, day=10):
    return dt.date(y, m, day)


def history(
    add_records, company, months, *, weight=Decimal(1000), supplier="Ningbo Hengda Trading Co., Ltd."
):
    """One shipment a month of `weight` kg from the usual supplier under HS 9617.00."""
    return add_records(
        *[{"date": m, "weight_kg": weight, "exporter_name": supplier} for m in months], company=company
    )


OLD = [d(2025, 6), d(2025, 7), d(2025, 8), d(2025, 9), d(2025, 10), d(2025, 11)]  # before the 90-day window


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_a_new_supplier_is_announced_to_the_owner_once(alice, acme, add_records):
    history(add_records, acme, OLD)
    (new,) = add_records({"date": d(2026, 2), "exporter_name": "Yiwu Rival Cups Factory", "exporter_country": "CN"},
                         company=acme)  # fmt: skip
    assert scan() == 1
    n = Notification.objects.get(user=alice)
    assert n.kind == "customs_new_supplier" and n.company_id == acme.pk
    assert n.url == f"/customs/{new.pk}/"
    assert render(n) == (
        "Acme Imports LLC bought from a new supplier: Yiwu Rival Cups Factory (China), on 2026-02-10"
    )
    with translation.override("zh-hans"):
        assert "Yiwu Rival Cups Factory" in render(n)
    assert scan() == 0 and scan([acme.pk]) == 0  # nightly and after the next import: nothing again


def test_the_same_supplier_spelled_differently_is_not_new(alice, acme, add_records):
    history(add_records, acme, OLD)
    add_records({"date": d(2026, 2), "exporter_name": "NINGBO HENGDA TRADING CO LTD"}, company=acme)
    assert scan() == 0


def test_a_first_ever_record_and_old_history_raise_nothing(alice, acme, add_records, make_company):
    add_records({"date": d(2026, 2), "hs_code": "8471"}, company=acme)  # its first record
    old = make_company(name="Old Buyer Ltd")
    history(add_records, old, [d(2024, 1)])
    history(
        add_records, old, [d(2024, 6)], supplier="Another Supplier Ltd", weight=D(5)
    )  # older than 90 days
    assert scan() == 0


def test_a_new_hs_heading_is_announced(alice, acme, add_records):
    history(add_records, acme, OLD)
    add_records({"date": d(2026, 1), "hs_code": "9617.00.10"}, company=acme)  # same heading 961700: not new
    add_records({"date": d(2026, 2), "hs_code": "7323.93", "product_description": "Stainless steel tableware"},
                company=acme)  # fmt: skip
    assert scan() == 1
    n = Notification.objects.get(user=alice)
    assert n.kind == "customs_new_hs_code"
    assert (
        render(n)
        == "Acme Imports LLC imported under a new HS code 732393 (Stainless steel tableware) on 2026-02-10"
    )


def test_a_volume_surge_is_measured_against_the_six_months_before(alice, acme, add_records):
    history(add_records, acme, OLD + [d(2025, 12), d(2026, 1)])
    add_records(*[{"date": d(2026, 2, day), "weight_kg": D("1000")} for day in (3, 12, 20)], company=acme)
    assert kinds(alice) == [] and scan() == 1  # February: 3,000 kg against 1,000 kg a month
    n = Notification.objects.get(user=alice)
    assert n.kind == "customs_volume_surge"
    assert render(n) == (
        "Acme Imports LLC imported 3000 kg in 2026-02, 3× the monthly average of the 6 months before"
    )
    assert n.url == f"/customs/?company={acme.pk}&date_from=2026-02-01&date_to=2026-02-28"


def test_no_surge_without_enough_history_or_a_real_difference(alice, acme, add_records):
    add_records({"date": d(2026, 1)}, {"date": d(2026, 2)}, {"date": d(2026, 2, 20)}, company=acme)
    assert scan() == 0  # two months of history only
    history(add_records, acme, OLD, weight=D("100"))
    add_records({"date": d(2025, 12), "weight_kg": D("100")}, company=acme)
    assert kinds(alice) == []


def test_a_sample_size_purchase_stands_out_from_the_usual_lots(alice, acme, add_records):
    history(add_records, acme, OLD)
    (sample,) = add_records({"date": d(2026, 2), "weight_kg": D("12.5"), "exporter_name": "Ningbo Hengda Trading"},
                            company=acme)  # fmt: skip
    assert scan() == 1
    n = Notification.objects.get(user=alice, kind="customs_sample_purchase")
    assert n.url == f"/customs/{sample.pk}/"
    assert render(n) == (
        "Acme Imports LLC bought a sample-size lot (12.5 kg) from Ningbo Hengda Trading on 2026-02-10"
    )


def test_a_buyer_of_small_lots_gets_no_sample_alerts(alice, acme, add_records):
    history(add_records, acme, OLD, weight=D("20"))
    add_records({"date": d(2026, 2), "weight_kg": D("15")}, company=acme)
    assert scan() == 0


def test_unlinked_records_and_ownerless_customers_raise_nothing(
    alice, acme, add_records, make_company, carol
):
    from tradecrm.customers.models import Company

    add_records(*[{"date": m, "importer_name": "TO ORDER"} for m in OLD])
    add_records({"date": d(2026, 2), "importer_name": "TO ORDER", "exporter_name": "Someone New"})
    pooled = make_company(name="Pool Buyer Inc")
    Company.objects.filter(pk=pooled.pk).update(owner=None)
    history(add_records, pooled, OLD)
    add_records({"date": d(2026, 2), "exporter_name": "Someone New"}, company=pooled)
    assert scan() == 0
    assert scan(today=TODAY) == 0


def test_scan_for_given_customers_only(alice, acme, add_records, make_company):
    other = make_company(name="Other Buyer Ltd")
    for c in (acme, other):
        history(add_records, c, OLD)
        add_records({"date": d(2026, 2), "exporter_name": "Brand New Supplier"}, company=c)
    assert scan([other.pk]) == 1
    assert Notification.objects.get().company_id == other.pk
    assert scan() == 1


def test_the_command_runs_the_scan(alice, acme, add_records):
    import json
    from io import StringIO

    from django.core.management import call_command

    history(add_records, acme, OLD)
    add_records({"date": d(2026, 2), "exporter_name": "Brand New Supplier"}, company=acme)
    out = StringIO()
    call_command("customs_alerts", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"notifications": 1, "days": 90}


def test_the_task_entry_points_call_the_scan(alice, acme, add_records):
    from tradecrm.customs import tasks

    history(add_records, acme, OLD)
    add_records({"date": d(2026, 2), "exporter_name": "Brand New Supplier"}, company=acme)
    assert tasks.customs_alerts_for.call_local([acme.pk]) == 1
    assert tasks.customs_alerts_nightly.call_local() == 0
