"""Sign-in security in a real browser: a role that enforces two-factor sets it up right after the
password (QR code, manual key), signs in with the code, and no page breaks the
Content-Security-Policy (Chromium reports each violation on the console)."""

from __future__ import annotations

import pyotp
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ["/customers/", "/followups/", "/tags/", "/account/two-factor/", "/account/api-tokens/",
         "/documents/quotations/", "/orders/", "/analysis/clusters/", "/dashboard/"]  # fmt: skip


def test_enforced_two_factor_and_no_csp_violations(page, live_server, alice, make_company):
    from tradecrm.security import services
    from tradecrm.security.models import TotpDevice

    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    services.policy_set(actor=None, role="sales", mode="enforced")
    company = make_company()
    base = live_server.url
    page.goto(f"{base}/login/", timeout=60_000)  # the first page of the live server imports every app
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/login/two-factor-setup/")
    assert page.locator("[data-testid=totp-qr] svg").count() == 1
    key = page.locator("[data-testid=totp-key]").inner_text().replace(" ", "")
    assert key == TotpDevice.objects.get(user=alice).secret
    page.fill("#id_code", pyotp.TOTP(key).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/account/two-factor/")
    assert page.locator("[data-testid=recovery-codes] li").count() == 10
    for path in [*PAGES, f"/customers/{company.pk}/"]:
        response = page.goto(f"{base}{path}")
        assert response.status < 400, path
        page.wait_for_load_state("load")
    assert not violations, violations
    assert not page.js_errors, page.js_errors
