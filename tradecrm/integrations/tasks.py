"""Background entry points of the integrations app: sending webhook deliveries (at once after the
commit, then the retries by the periodic scan) and forgetting old idempotency keys."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def webhook_deliver(delivery_id: int):
    """One attempt of one delivery (skipped when it is not due or another worker holds it)."""
    from .services import delivery_attempt

    delivery = delivery_attempt(delivery_id)
    return None if delivery is None else {"status": delivery.status, "attempts": delivery.attempts}


@db_periodic_task(crontab(minute="*"))
@lock_task("webhook-deliver-due")
def webhook_deliver_due():
    """Every minute: the deliveries whose (re)try time has come."""
    from .services import delivery_attempt, due_delivery_ids

    sent = 0
    for pk in due_delivery_ids():
        if delivery_attempt(pk) is not None:
            sent += 1
    return {"attempted": sent}


@db_periodic_task(crontab(minute="40", hour="3"))
def idempotency_purge_daily():
    """Idempotency keys are kept 30 days."""
    from .services import idempotency_purge

    return {"deleted": idempotency_purge()}
