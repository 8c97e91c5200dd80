"""Money helpers: ISO codes, minor units, half-up rounding, localized display and choices."""

from decimal import Decimal

import pytest
from django.utils import translation

from tradecrm.core.money import (
    COMMON_CURRENCIES,
    currency_choices,
    currency_precision,
    format_money,
    is_currency,
    money_locale,
    quantize_money,
)


def test_is_currency_knows_iso_codes_only():
    assert is_currency("USD") and is_currency("CNY") and is_currency("KWD")
    assert not is_currency("usd")  # stored codes are upper case; inputs are normalized before
    assert not is_currency("XYZ") and not is_currency("") and not is_currency(None)
    assert not is_currency("CYP")  # withdrawn in 2008


@pytest.mark.parametrize(
    "code,places", [("JPY", 0), ("KRW", 0), ("USD", 2), ("CNY", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3)]
)
def test_precision(code, places):
    assert currency_precision(code) == places


@pytest.mark.parametrize(
    "amount,code,expected",
    [
        ("2.345", "USD", "2.35"),
        ("2.344999", "USD", "2.34"),
        ("-2.345", "USD", "-2.35"),  # half up means away from zero
        ("1234.5", "JPY", "1235"),
        ("1234.4", "JPY", "1234"),
        ("1.2345", "KWD", "1.235"),
        ("10", "USD", "10.00"),
        (7, "CNY", "7.00"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, code, expected):
    value = quantize_money(Decimal(amount) if isinstance(amount, str) else amount, code)
    assert isinstance(value, Decimal)
    assert str(value) == expected


def test_quantize_refuses_floats():
    with pytest.raises(TypeError):
        quantize_money(0.1, "USD")


def test_format_follows_the_active_language():
    assert format_money(Decimal("1234.5"), "USD") == "$1,234.50"
    assert format_money(Decimal("1234.5"), "JPY") == "¥1,235"
    assert format_money(Decimal("1234.5678"), "KWD", locale="en") == "KWD1,234.568"
    with translation.override("zh-hans"):
        assert str(money_locale()) == "zh_Hans_CN"
        assert format_money(Decimal("1234.5"), "CNY") == "¥1,234.50"
        assert format_money(Decimal("1234.5"), "USD") == "US$1,234.50"
    assert str(money_locale("en")) == "en_US"
    assert format_money(Decimal("1234.5"), "EUR", locale="de_DE") == "1.234,50\xa0€"


def test_choices_common_first_then_by_code_localized():
    choices = currency_choices("en")
    codes = [c for c, _label in choices]
    assert codes[:6] == ["USD", "EUR", "CNY", "GBP", "JPY", "HKD"]
    assert codes[: len(COMMON_CURRENCIES)] == list(COMMON_CURRENCIES)
    rest = codes[len(COMMON_CURRENCIES) :]
    assert rest == sorted(rest) and len(set(codes)) == len(codes)
    assert dict(choices)["USD"] == "USD · US Dollar"
    assert {"AED", "SAR", "RUB", "INR", "BRL", "MXN", "CHF"} <= set(codes)
    with translation.override("zh-hans"):
        assert dict(currency_choices())["USD"] == "USD · 美元"
    choices.clear()  # a caller's list is its own
    assert currency_choices("en")
