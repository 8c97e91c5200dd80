"""The backstop of the hash chain: seal what the on_commit sealing left (it never waits for a
busy lock), every minute."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import chain


@db_periodic_task(crontab(minute="*"))
@lock_task("audit-seal")
def seal_audit_events():
    return chain.seal()
