"""Security headers on every page; HSTS and secure cookies only when served over TLS."""

import importlib
import re

import pytest

PAGES = ["/login/", "/customers/", "/account/api-tokens/", "/account/two-factor/"]


@pytest.mark.parametrize("path", PAGES)
def test_headers_on_pages(client, client_for, alice, path):
    r = (client if path == "/login/" else client_for(alice)).get(path)
    assert r.status_code == 200
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert re.search(r"'nonce-[A-Za-z0-9+/=]+'", script_src)
    assert r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in r  # plain http (tests): no HSTS


def test_page_nonce_matches_the_header(client_for, alice):
    r = client_for(alice).get("/customers/")
    nonce = re.search(r"'nonce-([^']+)'", r["Content-Security-Policy"]).group(1)
    assert f'"inlineScriptNonce": "{nonce}"' in r.content.decode()


def test_no_inline_handlers_in_templates():
    """Inline event handlers and javascript: URLs would be blocked by the policy."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    bad = []
    for path in [*root.glob("templates/**/*.html"), *root.glob("tradecrm/*/templates/**/*.html")]:
        text = path.read_text()
        if re.search(r"\son[a-z]+=\"|\shx-on[:-]|javascript:", text):
            bad.append(str(path.relative_to(root)))
        for m in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if "nonce" not in m.group(1) and "application/json" not in m.group(1):
                bad.append(f"{path.relative_to(root)}: inline <script> without nonce")
    assert not bad, bad


def test_tls_settings(monkeypatch):
    import config.settings as s

    monkeypatch.setenv("TRADECRM_TLS", "1")
    try:
        tls = importlib.reload(s)
        assert tls.SESSION_COOKIE_SECURE and tls.CSRF_COOKIE_SECURE
        assert tls.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert tls.SECURE_HSTS_SECONDS >= 31536000
    finally:
        monkeypatch.delenv("TRADECRM_TLS")
        importlib.reload(s)


def test_hsts_behind_a_tls_proxy(client_for, alice, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    r = client_for(alice).get("/customers/", HTTP_X_FORWARDED_PROTO="https")
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forms_carry_csrf(client):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    assert c.post("/login/", {"username": "x", "password": "y"}).status_code == 403
    assert 'name="csrfmiddlewaretoken"' in client.get("/login/").content.decode()
