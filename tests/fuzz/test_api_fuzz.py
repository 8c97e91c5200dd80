"""The API fuzzed with schemathesis: every operation of /api/v1/openapi.json, called through the
Django WSGI app (no server), must never answer 5xx.

The schema is read when the tests are collected, so routers added later are fuzzed too. Each
operation is its own test (its own rolled-back transaction: a 500 in one cannot poison the next,
and xdist spreads them over the workers). Generation is derandomized (fixed seed per operation)
so CI is not flaky: the same cases every run, positive (schema-valid) and negative (schema-invalid)
ones. `TRADECRM_FUZZ_EXAMPLES` raises the number of cases per operation for a deeper local run.

Runs on SQLite and PostgreSQL alike: the two raise different errors for the same bad input
(an id past 2**63 is an OverflowError on SQLite, a DataError on PostgreSQL), so each finds its own.
"""

from __future__ import annotations

import logging
import os

import pytest

EXAMPLES = int(os.environ.get("TRADECRM_FUZZ_EXAMPLES", "12"))
METHODS = ("get", "post", "put", "patch", "delete")


_RAW_SCHEMA = None


def _raw_schema() -> dict:
    """The API's OpenAPI document, built once per process (~1.5 s): collection lists the
    operations from it and the tests load it into schemathesis."""
    global _RAW_SCHEMA
    if _RAW_SCHEMA is None:
        from config.api import api

        _RAW_SCHEMA = api.get_openapi_schema(path_prefix="/api/v1")
    return _RAW_SCHEMA


def _operations() -> list[tuple[str, str]]:
    try:
        paths = _raw_schema()["paths"]
    except Exception as exc:  # collection must not die silently: the test below reports it
        return [("schema", repr(exc))]
    return [(m.upper(), p) for p, item in paths.items() for m in METHODS if m in item]


_SCHEMA = None


def _schema():
    """Loaded once per process, calling the WSGI app. The document is the one /api/v1/openapi.json
    serves (the same call, encoded as that view's response does), reused from collection
    rather than built a second time."""
    global _SCHEMA
    if _SCHEMA is None:
        import json

        import schemathesis
        from ninja.responses import NinjaJSONEncoder

        from config.wsgi import application

        _SCHEMA = schemathesis.openapi.from_dict(json.loads(json.dumps(_raw_schema(), cls=NinjaJSONEncoder)))
        _SCHEMA.app = application
        _SCHEMA.location = "/api/v1/openapi.json"
    return _SCHEMA


class _ServerErrors(logging.Handler):
    """Keeps the traceback Django logs for a 500, so a failure says where it broke."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            import traceback

            self.records.append("".join(traceback.format_exception(*record.exc_info))[-1500:])


@pytest.fixture
def _keep_connection():
    """Schemathesis calls the WSGI app itself, so Django's request signals close "old" database
    connections inside the test's transaction (on PostgreSQL: "Cannot open a new connection in an
    atomic block"). Django's own test client unhooks them the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, _keep_connection, make_company, alice, bob, carol, dave, admin):
    """A little data so that generated ids hit real rows now and then, and tokens for two roles."""
    from tradecrm.accounts.models import ApiToken

    for i in range(3):
        make_company(name=f"Fuzz Co {i}")
    make_company(actor=dave, name="West Co")
    return {
        "admin": ApiToken.issue(admin, name="fuzz")[1],
        "alice": ApiToken.issue(alice, name="fuzz")[1],
    }


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: v)
@pytest.mark.parametrize("persona", ["admin", "alice"])
def test_no_server_error(fuzz_world, settings, method, path, persona):
    assert method != "SCHEMA", f"the OpenAPI schema cannot be built: {path}"
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    # Uploads, exports and PDFs write files; keep them out of the shared data dir.
    settings.TRADECRM_PDF_PREWARM = False
    operation = _schema()[path][method]
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {fuzz_world[persona]}"}
    failures: list[str] = []
    catcher = _ServerErrors()
    request_log = logging.getLogger("django.request")
    request_log.addHandler(catcher)

    @hsettings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        catcher.records.clear()
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{response.status_code} for {case.method} {case.formatted_path} "
                f"query={case.query!r} body={str(case.body)[:300]!r}\n"
                + (catcher.records[0] if catcher.records else response.text[:500])
            )

    try:
        run()
    finally:
        request_log.removeHandler(catcher)
    assert not failures, f"{len(failures)} server errors; first:\n" + failures[0]
