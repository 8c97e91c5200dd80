"""Background entry points of automation: events queued by `events.emit` (after the commit), the
retries of failed network actions (back-off), the timer scan and the scheduled rules (every minute;
each guarded by a lock so runs never overlap)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def automation_handle_event(payload: dict):
    from .engine import handle_event

    return handle_event(payload)


@db_task()
def automation_handle_events(payloads: list[dict]):
    """A batch of events from a bulk run (events.emit_many); one failing event does not stop the
    others."""
    import logging

    from .engine import handle_event

    out = []
    for payload in payloads:
        try:
            out += handle_event(payload)
        except Exception:  # noqa: BLE001 - logged; the rest of the batch still runs
            logging.getLogger(__name__).exception("automation event %s failed", payload.get("event"))
    return out


@db_task()
def automation_retry_action(run_id: int, index: int, attempt: int):
    from .engine import retry_action

    return retry_action(run_id, index, attempt)


@db_periodic_task(crontab(minute="*"))
@lock_task("automation-scheduled")
def automation_scheduled_minutely():
    """Due scheduled rules (idempotent per rule and period) and the timer events."""
    from .engine import run_due_scheduled, scan_timers

    return {"scheduled": run_due_scheduled(), "timers": scan_timers()}
