"""Background entry points of the service app: the overdue-ticket scan and the daily surveys."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*/10"))
@lock_task("service-ticket-scan")
def ticket_scan_overdue():
    """Every 10 minutes: each newly missed due time alerts the owner and their manager once."""
    from .services import ticket_scan_overdue as scan

    return scan()


@db_periodic_task(crontab(minute="30", hour="9"))
@lock_task("service-surveys")
def surveys_send_daily():
    """Once a day: surveys for the orders delivered N days ago (N per tier)."""
    from .services import surveys_send_due

    return surveys_send_due()
