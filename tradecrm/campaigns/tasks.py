"""Background entry point of campaigns: the due mails every minute (throttled per mailbox)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*"))
@lock_task("campaign-send-due")
def campaign_send_due():
    from .sending import send_due

    return send_due()
