"""Background entry points of the duplicate check: the nightly sweep (and one on demand)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from .sweep import sweep


@db_periodic_task(crontab(minute="40", hour="2"))
@lock_task("dedup-sweep")
def dedup_sweep_nightly():
    """Companies, then contacts: pairs found are stored for review; "Not duplicates" stays."""
    return [sweep("companies"), sweep("contacts")]


@db_task()
@lock_task("dedup-sweep")
def dedup_sweep_now(entity: str = "companies"):
    """A sweep started from the review page by a manager or an administrator."""
    return sweep(entity)
