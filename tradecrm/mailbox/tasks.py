"""Background entry points of the email app: the sync every 5 minutes, one mailbox's sync (after
it is connected or on "Sync now"), sending one message, and the scheduled sends every minute."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(minute="*/5"))
@lock_task("mail-sync")
def mail_sync_periodic():
    """Sync every mailbox that is not paused; the lock keeps runs from overlapping."""
    from .selectors import mailboxes_to_sync
    from .sync import mailbox_sync

    return [mailbox_sync(m).as_dict() for m in mailboxes_to_sync()]


@db_task()
def mailbox_sync_task(mailbox_id: int):
    from .models import Mailbox
    from .sync import mailbox_sync

    mailbox = Mailbox.objects.select_related("user").filter(pk=mailbox_id).first()
    return mailbox_sync(mailbox).as_dict() if mailbox else None


@db_task()
def message_send_task(message_id: int):
    from .sending import message_deliver

    message = message_deliver(message_id)
    return message.status if message else None


@db_periodic_task(crontab(minute="*"))
@lock_task("mail-send-due")
def mail_send_due():
    from .sending import send_due

    return send_due()
