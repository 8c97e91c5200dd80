"""The hourly daily-digest pass. Kept apart from tasks.py (the reminder scan); apps.py imports
it so that huey registers the periodic task (djhuey only autodiscovers `tasks` modules)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .digest import send_due_digests


@db_periodic_task(crontab(minute="3"))
@lock_task("followups-daily-digest")
def daily_digest():
    """Each hour, users whose local time is 08:xx get their digest (once per local day). Every
    zone, +5:30 and +5:45 ones included, has exactly one such UTC hour a day."""
    return send_due_digests()
