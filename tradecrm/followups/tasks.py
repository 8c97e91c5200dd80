"""Background entry points of the follow-ups app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .reminders import resync_next_followups, run_reminders


@db_periodic_task(crontab(minute="*/5"))
@lock_task("followups-reminders")
def reminders_scan():
    """The reminder scan (reminders.py); the lock keeps a slow run from overlapping the next."""
    return run_reminders()


@db_periodic_task(crontab(minute="40", hour="3"))
def next_followup_resync():
    """Nightly repair of Company.next_followup_at (see reminders.resync_next_followups)."""
    return resync_next_followups()
