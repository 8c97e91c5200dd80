"""In a real browser (`make test-browser`): an administrator builds a rule in the rule builder
(a condition row added over htmx, an action row), saves it, a German customer is created, and the
rule's run log and the customer's follow-up show that it fired."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_rule_and_see_it_fire(page, live_server, admin, alice, settings):
    from tradecrm.automation.models import Rule, RuleRun
    from tradecrm.customers.services import company_create
    from tradecrm.followups.models import FollowUp

    settings.TRADECRM_AUTOMATION_SYNC = True  # the rule runs right after the commit, in this process
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-admin-12345")
    page.click("button[type=submit]")
    page.goto(f"{base}/automation/")
    page.click('[data-testid="new-rule"]')
    page.fill("#r-name", "Catalogue for Germany")
    page.select_option("#r-event", "record.created")
    page.click('[data-testid="add-condition"]')
    page.locator('[data-testid="condition-row"]').nth(1).wait_for()  # the second row came over htmx
    row = page.locator('[data-testid="condition-row"]').first
    row.locator('select[name="c_field"]').select_option("country")
    row.locator('select[name="c_op"]').select_option("eq")
    row.locator('input[name="c_value"]').fill("DE")
    action = page.locator('[data-testid="action-row"]').first
    action.locator('select[name="a_type"]').select_option("create_followup")
    action.locator('select[name="a_target"]').select_option("owner")
    action.locator('input[name="a_text"]').fill("Send the German catalogue")
    action.locator('input[name="a_number"]').fill("2")
    page.click('[data-testid="save-rule"]')
    page.locator('[data-testid="test-company"]').wait_for()  # saved: the edit page with the test box
    rule = Rule.objects.get()
    assert rule.conditions == {"all": [{"field": "country", "op": "eq", "value": "DE"}]}

    company = company_create(actor=alice, data={"name": "Hamburg Leuchten GmbH", "country": "DE"})
    assert RuleRun.objects.filter(rule=rule, obj_id=company.pk, status="done").exists()
    page.goto(f"{base}/automation/runs/?rule={rule.pk}")
    page.locator('[data-testid="run-status"]').first.wait_for()
    assert "Done" in page.locator('[data-testid="run-status"]').first.inner_text()
    page.goto(f"{base}/automation/{rule.pk}/")
    page.fill('[data-testid="test-company"]', str(company.pk))
    page.locator('[data-testid="test-company"]').press("Enter")
    page.locator('[data-testid="test-result"]').wait_for()
    assert "would fire" in page.locator('[data-testid="test-result"]').inner_text()
    assert FollowUp.objects.get(company=company).title == "Send the German catalogue"
    assert page.js_errors == []
