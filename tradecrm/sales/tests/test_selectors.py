"""Sales reads: the board (counts, totals in the base currency, first cards and paging per column,
scoped to the user), the weighted forecast, time in stage, stale deals and their alert."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradecrm.core.models import ExchangeRate
from tradecrm.customers.models import CompanyFollower
from tradecrm.followups.models import Notification
from tradecrm.followups.reminders import run_reminders
from tradecrm.sales import selectors, services
from tradecrm.sales.models import LossReason, Opportunity

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def eur_rate(db):
    return ExchangeRate.objects.create(base="EUR", quote="USD", date=NOW.date() - dt.timedelta(days=1),
                                       rate=Decimal("1.1000"))  # fmt: skip


def _column(board, key):
    return next(c for c in board.columns if c.stage.key == key)


def test_board_counts_totals_in_base_currency_and_first_cards(make_opp, alice, export, eur_rate):
    for i in range(3):
        make_opp(name=f"USD {i}", amount="1000")
    make_opp(name="EUR deal", amount="2000", currency="EUR")
    make_opp(name="Yen deal", amount="50000", currency="JPY")  # no JPY rate
    quoted = make_opp(name="Quoted deal", amount="500")
    services.opportunity_move_stage(actor=alice, opportunity=quoted, stage=export.by_key["quoted"])
    board = selectors.board(alice, export)
    inquiry = _column(board, "inquiry")
    assert inquiry.count == 5
    assert inquiry.total.amount == Decimal("5200.00")  # 3 × 1000 USD + 2000 EUR × 1.1
    assert inquiry.total.unconverted == {"JPY": Decimal("50000")}
    assert [c["name"] for c in inquiry.cards][0] == "Yen deal"  # the newest on top
    assert _column(board, "quoted").count == 1 and _column(board, "quoted").total.amount == Decimal("500.00")
    assert _column(board, "won").count == 0 and _column(board, "won").cards == []


def test_board_pages_each_column_by_position(make_opp, alice, export, settings):
    opps = [make_opp(name=f"Deal {i:02d}") for i in range(25)]
    board = selectors.board(alice, export, limit=10)
    column = _column(board, "inquiry")
    assert column.count == 25 and len(column.cards) == 10 and column.next_cursor
    seen = [c["id"] for c in column.cards]
    cursor = column.next_cursor
    while cursor:
        cards, cursor = selectors.board_column(
            alice, export, export.by_key["inquiry"], cursor=cursor, limit=10
        )
        seen += [c["id"] for c in cards]
    assert seen == [o.pk for o in reversed(opps)]  # each new card went on top


def test_board_runs_a_fixed_number_of_queries(make_opp, alice, export):
    for i in range(30):
        make_opp(name=f"Deal {i}")
    with CaptureQueriesContext(connection) as ctx:
        selectors.board(alice, export)
    # stages, the grouped open and closed counts, one query per column with cards (+ visibility)
    assert len(ctx.captured_queries) <= 6


def test_board_shows_only_visible_customers_deals(make_opp, make_company, alice, bob, carol, dave, export):
    make_opp()
    bobs = make_company(actor=bob, name="Bob's customer")
    make_opp(actor=bob, company=bobs)
    assert _column(selectors.board(alice, export), "inquiry").count == 1
    assert _column(selectors.board(carol, export), "inquiry").count == 2  # manager of the team
    assert _column(selectors.board(dave, export), "inquiry").count == 0
    CompanyFollower.objects.create(company=bobs, user=alice)
    assert _column(selectors.board(alice, export), "inquiry").count == 2
    assert _column(selectors.board(alice, export, owner=alice.pk), "inquiry").count == 1


def test_won_and_lost_columns_hold_the_recently_closed(make_opp, alice, export, frozen):
    old, recent = make_opp(name="Old win"), make_opp(name="Recent loss")
    services.opportunity_move_stage(actor=alice, opportunity=old, stage=export.by_key["won"])
    frozen.shift(dt.timedelta(days=40))
    services.opportunity_move_stage(actor=alice, opportunity=recent, stage=export.by_key["lost"],
                                    loss_reason=LossReason.objects.get(key="price"))  # fmt: skip
    board = selectors.board(alice, export)
    assert _column(board, "won").count == 0
    assert [c["name"] for c in _column(board, "lost").cards] == ["Recent loss"]


def test_forecast_weighs_by_probability_per_close_month(make_opp, alice, export, eur_rate):
    make_opp(amount="10000", expected_close_date="2026-04-10")  # inquiry stage: 10 %
    own = make_opp(amount="2000", currency="EUR", probability=50, expected_close_date="2026-04-25")
    later = make_opp(amount="1000", expected_close_date="2026-06-01")
    services.opportunity_move_stage(actor=alice, opportunity=later, stage=export.by_key["contract"])  # 90 %
    make_opp(amount="300")  # no close date
    won = make_opp(amount="99999", expected_close_date="2026-04-01")
    services.opportunity_move_stage(actor=alice, opportunity=won, stage=export.by_key["won"])  # not open
    f = selectors.forecast(alice)
    rows = {r.month: r for r in f.rows}
    april = rows[dt.date(2026, 4, 1)]
    assert april.count == 2 and own.probability == 50
    assert april.amount.amount == Decimal("12200.00")  # 10000 + 2000 EUR × 1.1
    assert april.weighted.amount == Decimal("2100.00")  # 10000 × 10 % + 2000 × 1.1 × 50 %
    assert rows[dt.date(2026, 6, 1)].weighted.amount == Decimal("900.00")
    assert rows[None].weighted.amount == Decimal("30.00")
    assert f.total_weighted.amount == Decimal("3030.00")
    assert [r.month for r in f.rows] == [dt.date(2026, 4, 1), dt.date(2026, 6, 1), None]
    assert selectors.forecast(alice, owner=alice.pk).count == 4


def test_forecast_is_scoped_to_the_user(make_opp, dave):
    make_opp(amount="1000", expected_close_date="2026-04-10")
    assert selectors.forecast(dave).rows == []


def test_time_in_stage_per_opportunity_and_average_per_stage(make_opp, alice, export, frozen):
    a, b = make_opp(name="A"), make_opp(name="B")
    frozen.shift(dt.timedelta(days=2))
    services.opportunity_move_stage(actor=alice, opportunity=a, stage=export.by_key["quoted"])
    frozen.shift(dt.timedelta(days=2))
    services.opportunity_move_stage(actor=alice, opportunity=b, stage=export.by_key["quoted"])
    frozen.shift(dt.timedelta(days=1))
    history = selectors.stage_history(Opportunity.objects.get(pk=a.pk))
    assert [(h["stage"].key, h["seconds"], h["current"]) for h in history] == [
        ("inquiry", 2 * 86400, False), ("quoted", 3 * 86400, True),
    ]  # fmt: skip
    durations = {d["stage"].key: d for d in selectors.stage_durations(alice, export)}
    assert durations["inquiry"]["average_seconds"] == 3 * 86400 and durations["inquiry"]["stays"] == 2
    assert durations["quoted"]["now"] == 2 and durations["quoted"]["average_seconds"] is None


def test_stale_opportunities_and_the_alert_once_per_stay(make_opp, alice, export, frozen):
    opp = make_opp(name="Sleepy deal")
    fresh = make_opp(name="Fresh deal")
    frozen.shift(dt.timedelta(days=8))  # inquiry: stale after 7 days
    Opportunity.objects.filter(pk=fresh.pk).update(stage_entered_at=NOW + dt.timedelta(days=5))
    assert [r["name"] for r in selectors.stale_opportunities(alice, pipeline=export)] == ["Sleepy deal"]
    assert [c["stale"] for c in _column(selectors.board(alice, export), "inquiry").cards] == [False, True]

    result = run_reminders()
    assert result["stale_opportunities_notified"] == 1
    note = Notification.objects.get(kind="opportunity_stale")
    assert (note.user, note.company_id, note.url) == (alice, opp.company_id, f"/opportunities/{opp.pk}/")
    assert note.params["name"] == "Sleepy deal" and note.params["days"] == 7
    assert run_reminders()["stale_opportunities_notified"] == 0  # once
    assert Notification.objects.filter(kind="opportunity_stale").count() == 1

    services.opportunity_move_stage(actor=alice, opportunity=Opportunity.objects.get(pk=opp.pk),
                                    stage=export.by_key["quoted"])  # fmt: skip
    frozen.shift(dt.timedelta(days=15))  # quoted: stale after 14 days; a new stay warns again
    assert run_reminders()["stale_opportunities_notified"] == 2  # and "Fresh deal", stale by now
    assert Notification.objects.filter(kind="opportunity_stale", params__opportunity=opp.pk).count() == 2


def test_stale_alert_text_through_the_notification_renderer(alice):
    from tradecrm.followups.notifications import render

    params = {"name": "Sleepy deal", "company": "Acme", "stage": "Quoted", "stage_key": "quoted", "days": 14}
    text = render({"kind": "opportunity_stale", "params": params})
    assert text == "Opportunity “Sleepy deal” (Acme) has been in “Quoted” for more than 14 days"


def test_convert_candidates_by_name_and_email_domain(make_company, make_inquiry, alice, dave):
    mine = make_company(name="Smith Trading GmbH", country="DE")
    by_domain = make_company(name="ST Logistics", email_domains=["smith-trading.de"])
    make_company(actor=dave, name="Smith Trading (Dave's)")
    inquiry = make_inquiry()
    found = {c["id"]: c["reasons"] for c in selectors.convert_candidates(alice, inquiry)}
    assert found == {mine.pk: ["name"], by_domain.pk: ["domain"]}
    gmail = make_inquiry(buyer_company="Nobody", buyer_email="smith@gmail.com")
    assert selectors.convert_candidates(alice, gmail) == []


def test_unlinked_inquiries_are_seen_by_their_owner_team_managers_and_admins(make_inquiry, alice, bob, carol, dave,
                                                                              admin):  # fmt: skip
    inquiry = make_inquiry()
    visible = {u.username: selectors.inquiries_for_user(u).filter(pk=inquiry.pk).exists()
               for u in (alice, bob, carol, dave, admin)}  # fmt: skip
    assert visible == {"alice": True, "bob": False, "carol": True, "dave": False, "admin": True}
    rows, _n, _p = selectors.inquiry_list(carol, selectors.InquiryFilters(unlinked=True))
    assert [r["id"] for r in rows] == [inquiry.pk]
