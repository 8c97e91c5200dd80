"""Background entry points of the follow-ups app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .reminders import run_reminders


@db_periodic_task(crontab(minute="*/5"))
@lock_task("followups-reminders")
def reminders_scan():
    """The reminder scan (reminders.py); the lock keeps a slow run from overlapping the next."""
    return run_reminders()
