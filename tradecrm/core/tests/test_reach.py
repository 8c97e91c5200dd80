"""Best time to reach and public holidays: exact overlaps across DST, +5:30/+5:45 zones,
CLDR weekends, holidays skipped and warned."""

from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from tradecrm.core import geo, reach


def company(tz, country, start=None, end=None):
    return SimpleNamespace(timezone=tz, country=country, office_start=start, office_end=end)


def user(tz="Asia/Shanghai", start=time(9), end=time(22)):
    return SimpleNamespace(timezone=tz, work_start=start, work_end=end)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def spans(windows):
    return [(w["start"], w["end"]) for w in windows]


def test_india_half_hour_zone_overlap_is_exact():
    # Kolkata 09:00-18:00 (+5:30) = 03:30-12:30 UTC; Shanghai 09:00-22:00 (+8) = 01:00-14:00 UTC
    w = reach.best_times(company("Asia/Kolkata", "IN"), user(), utc(2026, 11, 25, 0, 0), limit=1)
    assert spans(w) == [(utc(2026, 11, 25, 3, 30), utc(2026, 11, 25, 12, 30))]
    assert (w[0]["customer_start"].time(), w[0]["customer_end"].time()) == (time(9), time(18))
    assert (w[0]["my_start"].time(), w[0]["my_end"].time()) == (time(11, 30), time(20, 30))
    assert w[0]["minutes"] == 540


def test_nepal_quarter_hour_zone_overlap_is_exact():
    # Kathmandu 09:00-18:00 (+5:45) = 03:15-12:15 UTC; London in winter 09:00-17:00 = 09:00-17:00 UTC
    w = reach.best_times(
        company("Asia/Kathmandu", "NP"),
        user("Europe/London", time(9), time(17)),
        utc(2026, 11, 24, 0, 0),
        limit=1,
    )
    assert spans(w) == [(utc(2026, 11, 24, 9, 0), utc(2026, 11, 24, 12, 15))]
    assert (w[0]["customer_start"].time(), w[0]["customer_end"].time()) == (time(14, 45), time(18))
    assert w[0]["minutes"] == 195


def test_new_york_spring_forward_opens_a_window_for_a_rep_in_shanghai():
    # Before 2026-03-08 New York opens at 14:00 UTC, when Shanghai's working day (until 14:00 UTC)
    # ends: no overlap. From Monday 03-09 (EDT, -4) it opens at 13:00 UTC: one hour a day.
    w = reach.best_times(company("America/New_York", "US"), user(), utc(2026, 3, 5, 12, 0), limit=3)
    assert spans(w) == [
        (utc(2026, 3, 9, 13), utc(2026, 3, 9, 14)),
        (utc(2026, 3, 10, 13), utc(2026, 3, 10, 14)),
        (utc(2026, 3, 11, 13), utc(2026, 3, 11, 14)),
    ]
    assert w[0]["customer_start"].strftime("%H:%M %z") == "09:00 -0400"
    assert w[0]["my_end"].strftime("%H:%M %z") == "22:00 +0800"


def test_berlin_summer_time_moves_the_window_an_hour_earlier_in_utc():
    w = reach.best_times(company("Europe/Berlin", "DE"), user(), utc(2026, 3, 26, 0, 0), limit=3)
    assert spans(w) == [
        (utc(2026, 3, 26, 8), utc(2026, 3, 26, 14)),  # CET, +1
        (utc(2026, 3, 27, 8), utc(2026, 3, 27, 14)),
        (utc(2026, 3, 30, 7), utc(2026, 3, 30, 14)),  # CEST, +2, after the weekend of the change
    ]
    assert {x["customer_start"].time() for x in w} == {time(9)}


def test_friday_saturday_weekend_from_cldr():
    assert geo.is_weekend("SA", 4) and geo.is_weekend("SA", 5) and not geo.is_weekend("SA", 6)
    # a rep in Riyadh too: Sunday is a working day for both, Friday and Saturday for neither
    w = reach.best_times(company("Asia/Riyadh", "SA"), user("Asia/Riyadh"), utc(2026, 11, 25, 0, 0), limit=7)
    days = [x["customer_start"].date() for x in w]
    assert days == [date(2026, 11, d) for d in (25, 26, 29, 30)] + [date(2026, 12, 1)]


@pytest.mark.parametrize("country,tz", [("SA", "Asia/Riyadh"), ("AE", "Asia/Dubai"), ("IR", "Asia/Tehran")])
def test_windows_follow_the_cldr_weekend_of_the_country(country, tz):
    # a rep in the same zone, so only the customer's weekend (and holidays) can remove a day
    now = utc(2026, 11, 23, 0, 0)
    w = reach.best_times(company(tz, country), user(tz), now, days=7, limit=7)
    expected = [
        d
        for d in (date(2026, 11, 23 + i) for i in range(7))
        if not geo.is_weekend(country, d.weekday()) and not reach.is_holiday(country, d)
    ]
    assert [x["customer_start"].date() for x in w] == expected
    assert len(expected) < 7  # the country does have a weekend


def test_the_users_weekend_is_skipped_too():
    # Saudi office, rep in Berlin: Friday/Saturday closed there, Saturday/Sunday here -> Mon-Thu
    w = reach.best_times(
        company("Asia/Riyadh", "SA"),
        user("Europe/Berlin", time(8), time(20)),
        utc(2026, 11, 25, 0, 0),
        limit=7,
    )
    assert [x["customer_start"].weekday() for x in w] == [2, 3, 0, 1]
    assert spans(w)[0] == (utc(2026, 11, 25, 7), utc(2026, 11, 25, 15))  # 10:00-18:00 Riyadh vs 08:00 Berlin


def test_china_national_day_is_skipped_and_listed():
    w = reach.best_times(
        company("Asia/Shanghai", "CN"),
        user("Europe/Berlin", time(8), time(20)),
        utc(2026, 9, 30, 0, 0),
        days=14,
        limit=3,
    )
    assert [x["customer_start"].date() for x in w] == [
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]
    assert reach.is_holiday("CN", date(2026, 10, 1)) and not reach.is_holiday("CN", date(2026, 10, 8))
    ahead = reach.holidays_ahead("CN", date(2026, 9, 28), 14, "en")
    assert (date(2026, 10, 1), "National Day") in ahead
    assert all(date(2026, 9, 28) <= d < date(2026, 10, 12) for d, _ in ahead)
    assert (date(2026, 10, 1), "国庆节") in reach.holidays_ahead("CN", date(2026, 9, 28), 14, "zh-hans")


def test_us_independence_day_and_its_observed_friday_are_skipped():
    w = reach.best_times(
        company("America/New_York", "US"), user("America/New_York"), utc(2026, 7, 2, 12), limit=2
    )
    assert [x["customer_start"].date() for x in w] == [date(2026, 7, 2), date(2026, 7, 6)]
    assert w[0]["start"] == utc(2026, 7, 2, 13) and w[0]["now"] is False
    names = dict(reach.holidays_ahead("US", date(2026, 7, 1), 7))
    assert names[date(2026, 7, 4)] == "Independence Day" and date(2026, 7, 3) in names


def test_a_window_in_progress_starts_now_and_office_hours_of_the_company_apply():
    now = utc(2026, 11, 25, 10, 0)
    w = reach.best_times(company("Europe/London", "GB", time(8), time(12)), user(), now, limit=1)
    assert spans(w) == [(now, utc(2026, 11, 25, 12))] and w[0]["now"] is True


def test_a_night_shift_crossing_midnight():
    # Shanghai 20:00-02:00 = 12:00-18:00 UTC; London 09:00-18:00 (winter) = 09:00-18:00 UTC
    w = reach.best_times(
        company("Europe/London", "GB"),
        user("Asia/Shanghai", time(20), time(2)),
        utc(2026, 11, 25, 0, 0),
        limit=1,
    )
    assert spans(w) == [(utc(2026, 11, 25, 12), utc(2026, 11, 25, 18))]


@pytest.mark.parametrize("tz", ["", "Mars/Olympus"])
def test_unknown_zone_gives_no_suggestion(tz):
    assert reach.best_times(company(tz, "US"), user(), utc(2026, 11, 25)) == []
    assert reach.best_times(company("Europe/Berlin", "DE"), user(tz), utc(2026, 11, 25)) == []
    assert reach.customer_time_at(company(tz, "US"), utc(2026, 11, 25)) is None


def test_unknown_or_unsupported_country_has_no_holidays():
    assert reach.holidays_ahead("", date(2026, 1, 1)) == []
    assert reach.holidays_ahead("ZZ", date(2026, 1, 1)) == []
    assert not reach.is_holiday("ZZ", date(2026, 1, 1))


def test_holidays_are_cached_per_country_and_year():
    reach.holidays_ahead("DE", date(2031, 12, 20), 20)  # spans two years
    before = reach._holidays_of.cache_info()
    assert reach.holidays_ahead("DE", date(2031, 12, 20), 20) == reach.holidays_ahead(
        "DE", date(2031, 12, 20), 20
    )
    after = reach._holidays_of.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 4


def test_customer_time_at_states():
    c = company("Asia/Kolkata", "IN")
    assert reach.customer_time_at(c, utc(2026, 11, 25, 4))["state"] == "within"  # 09:30 IST
    assert reach.customer_time_at(c, utc(2026, 11, 25, 13))["state"] == "outside"  # 18:30 IST
    assert reach.customer_time_at(c, utc(2026, 11, 29, 4))["state"] == "weekend"  # Sunday
    info = reach.customer_time_at(company("Asia/Shanghai", "CN"), utc(2026, 10, 1, 2))
    assert (info["state"], info["holiday"], info["local"].hour) == ("holiday", "National Day", 10)


def render(source, **ctx):
    return Template("{% load reach %}" + source).render(Context(ctx))


def test_customer_time_at_tag():
    # no django_db mark: any query would raise, so the tag provably reads no database
    c = company("Asia/Shanghai", "CN")
    html = render("{% customer_time_at c when %}", c=c, when=utc(2026, 10, 1, 2))
    assert "Thu 10:00" in html and 'data-state="holiday"' in html and "Public holiday: National Day" in html
    html = render("{% customer_time_at c when %}", c=company("Asia/Kolkata", "IN"), when=utc(2026, 11, 25, 4))
    assert "Wed 09:30" in html and "Within office hours" in html and "holiday" not in html
    assert render("{% customer_time_at c when %}", c=company("", "US"), when=utc(2026, 11, 25)) == ""
    row = {"timezone": "Asia/Kolkata", "country": "IN", "office_start": time(10), "office_end": time(19)}
    html = render("{% customer_time_at c when %}", c=row, when=utc(2026, 11, 25, 4))  # 09:30, opens at 10
    assert (
        "Wed 09:30" in html and 'data-state="outside"' in html and 'title="Asia/Kolkata · UTC+05:30"' in html
    )
    with translation.override("zh-hans"):
        html = render("{% customer_time_at c when %}", c=c, when=utc(2026, 10, 1, 2))
    assert "国庆节" in html


def test_reach_panel_tag_renders_both_times_and_holiday_warnings(time_machine):
    # no django_db mark: the panel must not query (the company page stays cheap)
    time_machine.move_to(utc(2026, 9, 29, 0, 0))
    c = company("Asia/Shanghai", "CN")
    u = user("Europe/Berlin", time(8), time(20))
    html = render("{% reach_panel c u %}", c=c, u=u)
    # Tue 29 Sep 09:00-18:00 Shanghai = 03:00-12:00 Berlin, from 08:00 there: 14:00-18:00 / 08:00-12:00
    assert "Tue 29 Sep 14:00–18:00" in html and "Tue 29 Sep 08:00–12:00" in html
    assert html.count('data-testid="reach-window"') == 2  # 29 and 30 Sep; 1-5 Oct are holidays or weekend
    assert "National Day" in html and "Mid-Autumn" not in html  # 25 Sep is behind us
    html = render("{% reach_panel c u %}", c=company("", "CN"), u=u)
    assert 'data-testid="reach-unknown"' in html and "reach-window" not in html
