"""Working hours and the daily digest on the preferences page."""

import re
from datetime import time

import pytest

pytestmark = pytest.mark.django_db

BASE = {"first_name": "Alice", "last_name": "", "language": "en", "timezone": "Asia/Shanghai"}


def test_page_shows_working_hours_digest_and_time_zone_choices(client_for, alice):
    html = client_for(alice).get("/account/").content.decode()
    assert 'name="work_start" value="09:00"' in html and 'name="work_end" value="22:00"' in html
    assert 'type="time"' in html and 'name="daily_digest"' in html
    assert '<option value="Asia/Shanghai" selected>' in html and '<option value="Asia/Kolkata">' in html


def test_save_working_hours_and_digest(client_for, alice):
    r = client_for(alice).post(
        "/account/", {**BASE, "work_start": "08:30", "work_end": "17:45", "daily_digest": "on"}
    )
    assert r.status_code == 302
    alice.refresh_from_db()
    assert (alice.work_start, alice.work_end, alice.daily_digest) == (time(8, 30), time(17, 45), True)
    html = client_for(alice).get("/account/").content.decode()
    assert re.search(r'<input type="checkbox" name="daily_digest"[^>]* checked>', html)


def test_unticking_the_digest_turns_it_off(client_for, alice):
    alice.daily_digest = True
    alice.save(update_fields=["daily_digest"])
    client_for(alice).post("/account/", {**BASE, "work_start": "09:00", "work_end": "18:00"})
    alice.refresh_from_db()
    assert alice.daily_digest is False


@pytest.mark.parametrize("start,end", [("18:00", "09:00"), ("09:00", "09:00")])
def test_end_must_be_after_start(client_for, alice, start, end):
    r = client_for(alice).post("/account/", {**BASE, "work_start": start, "work_end": end})
    assert r.status_code == 422
    assert r.context["form"].errors["work_end"] == ["The end of your working day must be after its start."]
    assert "The end of your working day must be after its start." in r.content.decode()
    alice.refresh_from_db()
    assert (alice.work_start, alice.work_end) == (time(9), time(22))


def test_bad_time_is_a_field_error(client_for, alice):
    r = client_for(alice).post("/account/", {**BASE, "work_start": "25:99", "work_end": "18:00"})
    assert r.status_code == 422 and "work_start" in r.context["form"].errors


def test_the_page_says_where_the_digest_goes(client_for, alice):
    html = client_for(alice).get("/account/").content.decode()
    assert 'data-testid="digest-no-email"' in html
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    html = client_for(alice).get("/account/").content.decode()
    assert "Sent to alice@example.com." in html and "digest-no-email" not in html
