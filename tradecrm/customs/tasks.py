"""Background entry points of the customs app: the alert scan, nightly and after an import."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from .alerts import scan


@db_periodic_task(crontab(minute="20", hour="4"))
@lock_task("customs-alerts")
def customs_alerts_nightly():
    """Every customer with records in the alert window (alerts.py); a second run creates nothing."""
    return scan()


@db_task()
def customs_alerts_for(company_ids: list[int]):
    """The scan for the customers an import linked records to (queued on commit of the import)."""
    return scan(company_ids)
