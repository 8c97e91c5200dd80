import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tradecrm.core import geo
from tradecrm.core.phones import display_phone, normalize_phone
from tradecrm.core.search import query_terms


@pytest.mark.parametrize(
    ("country", "city", "phone", "zone"),
    [
        ("US", "Chicago", "", "America/Chicago"),
        ("US", "", "+13125550123", "America/Chicago"),
        ("IN", "", "", "Asia/Kolkata"),
        ("BR", "São Paulo", "", "America/Sao_Paulo"),
        ("AE", "", "", "Asia/Dubai"),
        ("", "", "", ""),
    ],
)
def test_infer_timezone(country, city, phone, zone):
    assert geo.infer_timezone(country, city, phone) == zone


def test_office_state_half_hour_zone_and_gulf_weekend():
    # 2026-11-23 is a Monday; 04:00 UTC is 09:30 in Kolkata (+05:30)
    now = dt.datetime(2026, 11, 23, 4, 0, tzinfo=ZoneInfo("UTC"))
    s = geo.office_state("Asia/Kolkata", "IN", None, None, now)
    assert s["local"].strftime("%H:%M") == "09:30" and s["within"] and s["utc_offset"] == "+05:30"
    # Friday 10:00 in Riyadh is the weekend there
    friday = dt.datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("UTC"))
    s = geo.office_state("Asia/Riyadh", "SA", None, None, friday)
    assert s["weekend"] and not s["within"]
    assert geo.office_state("Europe/Berlin", "DE", None, None, friday)["within"] is False  # 08:00 in Berlin
    assert geo.office_state("Bad/Zone", "DE", None, None, friday) is None


def test_phone_normalization():
    assert normalize_phone("030 1234567", "DE") == "+49301234567"
    assert display_phone("+49301234567") == "+49 30 1234567"
    with pytest.raises(ValidationError):
        normalize_phone("12345", "DE")
    with pytest.raises(ValidationError, match="country code"):
        normalize_phone("030 1234567", "")


def test_country_names_localized():
    assert dict(geo.country_choices("zh-hans"))["DE"] == "德国"
    assert dict(geo.country_choices("en"))["DE"] == "Germany"


def test_query_terms():
    assert query_terms("+49 (30) 123-4567") == ["49301234567"]
    assert query_terms("030 1234567") == ["301234567"]
    assert query_terms("  Acme   Trading ") == ["acme", "trading"]
