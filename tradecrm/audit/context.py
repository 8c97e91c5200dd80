"""Where a change comes from: the source (ui / api / cli / import / task) and the client's IP,
kept in a context variable so that `audit_record()` keeps its signature and every caller —
services called from a view, the API, a command, the import engine or a task — is attributed
without passing anything down.

- web requests: `AuditContextMiddleware` (ui, or api under /api/) with the client address;
- huey tasks: set by huey's EXECUTING signal (`install_task_hooks`, called from the app config);
- the import engine: wrap the run in `audit_context(source="import")`;
- anything else (management commands, a shell): no context means "cli".
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


class Source:
    UI = "ui"
    API = "api"
    CLI = "cli"
    IMPORT = "import"
    TASK = "task"
    ALL = ("ui", "api", "cli", "import", "task")


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.CLI
    ip: str | None = None


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("tradecrm_audit", default=None)


def current() -> AuditContext:
    return _current.get() or AuditContext()


def current_source() -> str:
    """Field default of AuditEvent.source (also used by bulk_create)."""
    return current().source


def current_ip() -> str | None:
    """Field default of AuditEvent.ip."""
    return current().ip


@contextlib.contextmanager
def audit_context(*, source: str, ip: str | None = None) -> Iterator[AuditContext]:
    """Attribute the audit events written inside the block to `source` (and `ip`)."""
    if source not in Source.ALL:
        raise ValueError(f"unknown audit source {source!r}; one of {', '.join(Source.ALL)}")
    ctx = AuditContext(source=source, ip=ip or None)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or — behind N trusted reverse proxies (settings.TRADECRM_PROXY_COUNT) — the
    address the outermost of them saw, taken from the right of X-Forwarded-For (the left part is
    whatever the client claimed)."""
    from django.conf import settings

    meta = getattr(request, "META", {}) or {}
    proxies = int(getattr(settings, "TRADECRM_PROXY_COUNT", 0) or 0)
    if proxies:
        chain = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(chain) >= proxies:
            return _valid_ip(chain[-proxies])
    return _valid_ip(meta.get("REMOTE_ADDR"))


def _valid_ip(value) -> str | None:
    import ipaddress

    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


# --- huey tasks ---------------------------------------------------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def install_task_hooks() -> None:
    """Events written while a huey task runs are attributed to "task" (unless the task itself
    opens a narrower context, as the import engine should with source="import")."""
    from huey.contrib.djhuey import HUEY

    @HUEY.pre_execute(name="tradecrm-audit-context")
    def _task_started(task):
        _task_tokens[task.id] = _current.set(AuditContext(source=Source.TASK))

    @HUEY.post_execute(name="tradecrm-audit-context")
    def _task_ended(task, task_value, exc):
        token = _task_tokens.pop(task.id, None)
        if token is not None:
            try:
                _current.reset(token)
            except ValueError:  # set in another context: just clear it
                _current.set(None)
