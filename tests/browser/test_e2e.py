"""End to end in a real browser: Debian's Chromium, driven by Playwright, against the app served
by pytest-django's live server. Sign in, create a customer with a bad phone, see the field error,
fix it, find the customer in the list. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from guide_shots import shot

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, capsys, name: str, guide: str | None = None) -> Path:
    path = shot(page, name, guide=guide)
    with capsys.disabled():  # shown in the test output even when pytest captures it
        print(f"\nscreenshot: {path}")
    return path


def test_create_customer_with_bad_phone_then_fix_it(page, live_server, alice, capsys):
    from tradecrm.customers.models import Company

    base = live_server.url
    page.goto(f"{base}/customers/")
    assert "/login/" in page.url  # signed out: sent to sign in
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")
    assert page.get_by_text("No customers yet").is_visible()

    page.get_by_role("link", name="New customer").click()
    page.wait_for_url(f"{base}/customers/new/")
    page.fill("#id_name", "Chicago Lighting Supply")
    page.select_option("#id_country", "US", force=True)  # Tom Select hides the native select
    page.fill("#id_city", "Chicago")
    page.fill("#id_phones", "12345")
    page.click("button[type=submit]")

    error = page.locator("#id_phones_error")
    error.wait_for()
    assert "12345" in error.inner_text() and "not a valid phone number" in error.inner_text()
    assert page.locator("#id_phones.is-invalid").count() == 1
    assert page.input_value("#id_name") == "Chicago Lighting Supply"  # nothing typed is lost
    _shot(page, capsys, "e2e-1-phone-error.png")
    assert not Company.objects.exists()

    page.fill("#id_phones", "(312) 555-0123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/*/")
    assert page.locator("[data-testid=company-phones]").inner_text().strip() == "+1 312-555-0123"
    assert "America/Chicago" in page.locator("[data-testid=local-time]").inner_text()

    page.get_by_role("link", name="Customers").first.click()
    page.wait_for_url(f"{base}/customers/")
    row = page.locator("table.company-table tbody tr", has_text="Chicago Lighting Supply")
    assert row.count() == 1 and "United States" in row.inner_text()

    # the htmx filter re-renders only the table
    page.fill("#f-q", "zzz-no-such-customer")
    page.get_by_text("No customer matches these filters").wait_for()
    page.fill("#f-q", "chicago light")
    row.wait_for()
    assert "q=chicago" in page.url
    path = _shot(page, capsys, "e2e-2-customer-list.png", guide="customer-list")
    assert path.stat().st_size > 10_000
    assert Company.objects.get().phones == ["+13125550123"]
    assert page.js_errors == []


def test_language_switch_and_chinese_errors(page, live_server, alice, capsys):
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_role("button", name="简体中文").click()  # before signing in: remembered in a cookie
    page.get_by_role("heading", name="登录您的账户").wait_for()
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/customers/")
    page.get_by_role("link", name="新建客户").wait_for()  # the choice is kept on the account
    alice.refresh_from_db()
    assert alice.language == "zh-hans"

    page.get_by_role("link", name="新建客户").click()
    page.fill("#id_name", "柏林机械进出口有限公司")
    page.select_option("#id_country", "DE", force=True)
    page.fill("#id_phones", "030 12")
    page.click("button[type=submit]")
    error = page.locator("#id_phones_error")
    error.wait_for()
    assert "不是该国家的有效电话号码" in error.inner_text()
    _shot(page, capsys, "e2e-3-chinese-error.png")
    assert page.js_errors == []


def test_log_a_call_then_plan_and_complete_a_follow_up(page, live_server, alice, make_company, capsys):
    """The daily loop of an export rep: log a call from the customer page in two clicks, plan the
    next follow-up, then complete it and log what was said in the same step."""
    from tradecrm.followups.models import FollowUp
    from tradecrm.interactions.models import Interaction

    company = make_company(actor=alice, name="Berliner Leuchten GmbH", country="DE", city="Berlin")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")
    page.goto(f"{base}/customers/{company.pk}/")
    page.locator("#timeline-empty").wait_for()  # the timeline loads by htmx: nothing logged yet

    # two clicks: the type button, then save
    page.click("[data-testid=quick-call]")
    form = page.locator("[data-testid=quick-form]")
    form.wait_for()
    form.locator("[name=subject]").fill("Discussed the LED panel order for March")
    page.click("[data-testid=quick-save]")
    page.locator("#timeline-entries", has_text="Discussed the LED panel order for March").wait_for()
    call = Interaction.objects.get(company=company)
    assert call.type == "call" and call.direction == "out" and call.owner == alice
    company.refresh_from_db()
    assert company.last_contact_at == call.occurred_at
    # the follow-up card's "last real contact" follows without a reload
    page.locator(
        "[data-testid=last-contact]",
        has_text=f"{call.occurred_at.astimezone(ZoneInfo(alice.timezone)):%Y-%m-%d}",
    ).wait_for()
    assert "none logged yet" not in page.locator("[data-testid=last-contact]").inner_text()

    # plan the next follow-up
    page.click("[data-testid=plan-followup]")
    plan = page.locator("[data-testid=followup-form]")
    plan.wait_for()
    plan.locator("[name=title]").fill("Send the revised quotation")
    plan.locator("[name=due_at]").fill("2030-03-02T10:00")
    plan.get_by_role("button", name="Plan").click()
    row = page.locator("[data-testid=followup-row]", has_text="Send the revised quotation")
    row.wait_for()
    followup = FollowUp.objects.get(company=company)
    assert followup.status == "open" and followup.assignee == alice

    # complete it and log what happened, in one step
    row.locator("[data-testid=complete]").click()
    done = page.locator("[data-testid=complete-form]")
    done.wait_for()
    done.locator("[name=log_body]").fill("Quotation Q-2030-0007 sent; buyer answers Friday")
    done.get_by_role("button", name="Mark done").click()
    page.locator("[data-testid=no-open-followups]").or_(
        page.locator("[data-testid=closed-followup]")
    ).first.wait_for()
    followup.refresh_from_db()
    assert followup.status == "done" and followup.outcome is not None
    assert "Q-2030-0007" in followup.outcome.body and followup.outcome.company_id == company.pk
    assert Interaction.objects.filter(company=company).count() == 2
    # ... and the timeline shows the logged outcome without a reload
    page.locator("#timeline-entries", has_text="Q-2030-0007").wait_for()
    _shot(page, capsys, "e2e-4-call-and-follow-up.png", guide="call-and-follow-up")
    assert page.js_errors == []
