"""Browser tests run only when asked for: `pytest -m browser tests/browser` (what `make test-browser`
runs). A plain `pytest` leaves them out, like `-m "not browser"`, because they need Chromium and
the npm assets in static/vendor/."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite the browser tests use a database file, not Django's shared in-memory one: the
    live server then gives each of its request threads a connection of its own, which waits for a
    writer (WAL, busy_timeout) instead of failing at once with "database table is locked" when the
    page fires two requests together (seen with the duplicate check while typing)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "test.sqlite3")


@pytest.fixture
def page(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made here by the test
    # itself are plain synchronous ones, so Django's async-safety guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        pg = context.new_page()
        pg.set_default_timeout(30_000)  # the shared 2-core machine can be slow
        pg.js_errors = []
        pg.on("pageerror", lambda exc: pg.js_errors.append(f"{exc} {getattr(exc, 'stack', '')}"))
        yield pg
        context.close()
        browser.close()


def pytest_collection_modifyitems(config, items):
    if config.option.markexpr or any("tests/browser" in str(a) for a in config.invocation_params.args):
        return
    keep, skipped = [], []
    for item in items:
        (skipped if item.get_closest_marker("browser") else keep).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = keep
