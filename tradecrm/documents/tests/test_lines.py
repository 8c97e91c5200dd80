"""The shared line arithmetic: amounts after discount, cartons rounded up, weights, volume,
container estimate and margin with the export tax rebate."""

from decimal import Decimal as D

from tradecrm.documents.lines import (
    Packing,
    carton_cbm,
    container_estimate,
    line_figures,
    margin,
    money,
    totals,
    unit_rebate,
)


def test_amount_after_discount_and_rounding():
    f = line_figures(quantity=D("3"), unit_price=D("3.3333"), discount_percent=D("10"))
    assert f.gross_amount == D("10.00") and f.amount == D("9.00")
    assert line_figures(quantity=D("1"), unit_price=D("1234.5"), precision=0).amount == D("1235")


def test_cartons_round_up_and_carry_weights_and_volume():
    packing = Packing(units_per_carton=24, gross_weight_kg=D("12.5"), net_weight_kg=D("11"), cbm=D("0.0625"))
    f = line_figures(quantity=D("1000"), unit_price=D("2"), packing=packing)
    assert f.cartons == 42  # 41.67 cartons: the last one ships part-filled
    assert f.gross_weight_kg == D("525.000") and f.net_weight_kg == D("462.000") and f.cbm == D("2.6250")


def test_free_line_without_packing_has_no_cartons():
    f = line_figures(quantity=D("5"), unit_price=D("10"))
    assert (f.cartons, f.cbm, f.gross_weight_kg) == (0, D("0"), D("0"))


def test_carton_volume_from_dimensions():
    assert carton_cbm(D("50"), D("40"), D("30")) == D("0.0600")
    assert carton_cbm(D("50"), None, D("30")) is None


def test_totals_sum_lines_and_discounts():
    lines = [
        {"quantity": D("10"), "unit_price": D("5"), "amount": D("45.00"), "cartons": 1,
         "gross_weight_kg": D("6"), "net_weight_kg": D("5"), "cbm": D("0.05")},
        {"quantity": D("2"), "unit_price": D("100"), "amount": D("200.00"), "cartons": 2,
         "gross_weight_kg": D("20"), "net_weight_kg": D("18"), "cbm": D("0.2")},
    ]  # fmt: skip
    t = totals(lines)
    assert (t.subtotal, t.discount_total, t.total_amount) == (D("250.00"), D("5.00"), D("245.00"))
    assert (t.total_cartons, t.total_gross_weight_kg, t.total_cbm) == (3, D("26"), D("0.25"))


def test_container_estimate_by_volume_and_by_weight():
    light = container_estimate(D("100"), D("8000"))
    assert light["20GP"]["count"] == 4 and light["40GP"]["count"] == 2 and light["40HQ"]["count"] == 2
    assert light["suggested"] == "2 × 40HQ"
    heavy = container_estimate(D("20"), D("40000"))  # steel: the weight binds, not the volume
    assert heavy["20GP"]["count"] == 2 and heavy["40HQ"]["count"] == 2
    small = container_estimate(D("6"), D("900"))
    assert small["lcl"] is True and small["suggested"] == "1 × 20GP"
    assert container_estimate(D("0"), D("0"))["suggested"] == ""


def test_suggested_mix_adds_a_20gp_for_a_small_remainder():
    assert container_estimate(D("90"), D("10000"))["suggested"] == "1 × 40HQ + 1 × 20GP"


def test_rebate_is_on_the_cost_without_vat():
    # 113 CNY with 13 % VAT is 100 before VAT; a 13 % rebate gives 13 back
    assert money(unit_rebate(D("113"), D("13"), D("13"))) == D("13.00")
    assert unit_rebate(D("113"), D("13"), D("0")) == 0


def test_margin_with_rebate_and_incomplete_costs():
    lines = [
        {"quantity": D("100"), "amount": D("200"), "unit_cost_cny": D("11.3"), "vat_rate": D("13"),
         "tax_rebate_rate": D("13")},
        {"quantity": D("1"), "amount": D("50"), "unit_cost_cny": None, "vat_rate": None, "tax_rebate_rate": None},
    ]  # fmt: skip
    m = margin(lines, rate_to_cny=D("7.1"))
    assert m.revenue_cny == D("1775.00") and m.cost_cny == D("1130.00") and m.rebate_cny == D("130.00")
    assert m.margin_cny == D("775.00") and m.margin_percent == D("43.66") and m.complete is False
