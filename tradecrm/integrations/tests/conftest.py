"""A real HTTP receiver on 127.0.0.1 (stdlib http.server in a thread) that answers 500 the first
`fail` times, then 200, and keeps every request it got; plus API helpers."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from tradecrm.accounts.models import ApiToken

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)


class Receiver:
    def __init__(self):
        self.fail = 0
        self.status_when_failing = 500
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                    )
                    failing = receiver.fail > 0
                    if failing:
                        receiver.fail -= 1
                status = receiver.status_when_failing if failing else 200
                answer = b'{"error": "busy"}' if failing else b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )

    def json(self, i: int = -1) -> dict:
        return json.loads(self.requests[i]["body"])


@pytest.fixture(scope="session")
def _receiver_server():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def receiver(_receiver_server):
    """The session's receiver, reset: no failures planned, no requests kept."""
    _receiver_server.fail = 0
    _receiver_server.status_when_failing = 500
    _receiver_server.requests.clear()
    return _receiver_server


@pytest.fixture(autouse=True)
def _tasks_run_at_once(monkeypatch):
    """Queued deliveries run at once (huey immediate mode) when the transaction's callbacks run."""
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "immediate", True)


@pytest.fixture(autouse=True)
def _fresh_subscriptions():
    cache.delete("integrations:webhook-events")
    yield
    cache.delete("integrations:webhook-events")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def endpoint(admin, receiver):
    from tradecrm.integrations.services import endpoint_create

    return endpoint_create(actor=admin, data={"name": "ERP", "url": receiver.url, "events": [
        "company.created", "company.updated", "company.deleted", "order.created", "payment.created",
        "opportunity.created", "import.completed"]})  # fmt: skip


@pytest.fixture
def api_for():
    """A client calling the API with a fresh token of `user` (optionally limited to `scopes`)."""

    def make(user, scopes=None):
        token, raw = ApiToken.issue(user, name="test")
        if scopes is not None:
            ApiToken.objects.filter(pk=token.pk).update(scopes=scopes)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)
