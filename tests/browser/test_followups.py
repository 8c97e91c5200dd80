"""In a real browser (`make test-browser`): plan a follow-up from the customer page over htmx, see the field error
and the past-due warning, complete it in one step with a logged call, see the nav badge."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", phones=["(312) 555-0123"])


def test_plan_and_complete_on_the_customer_page(page, live_server, alice, acme):
    from tradecrm.followups.models import FollowUp
    from tradecrm.interactions.models import Interaction

    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.goto(f"{base}/customers/{acme.pk}/")
    page.locator('[data-testid="no-open-followups"]').wait_for()

    page.click('[data-testid="plan-followup"]')
    page.locator('[data-testid="followup-form"] #id_title').wait_for()
    page.click('[data-testid="followup-form"] button[type=submit]')
    page.locator('[data-field="title"] .invalid-feedback').wait_for()  # the 422 answer is shown

    page.fill("#id_title", "Call about the sample")
    page.fill("#id_due_at", "2026-01-05T09:00")
    page.click('[data-testid="followup-form"] button[type=submit]')
    page.locator('[data-testid="followup-warning"]').wait_for()  # in the past: flagged
    assert page.locator('[data-testid="followup-row"]').count() == 1
    assert page.locator('[data-testid="followup-form"]').count() == 0  # the form emptied

    page.click('[data-testid="complete"]')
    page.fill("#id_log_body", "Sample arrives Friday")
    page.click('[data-testid="complete-form"] button[type=submit]')
    page.locator('[data-testid="closed-followup"]').wait_for()
    f = FollowUp.objects.get()
    assert f.status == "done" and f.outcome == Interaction.objects.get()
    assert page.js_errors == []
