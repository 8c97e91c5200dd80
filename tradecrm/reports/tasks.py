"""Background entry points of the reports app: the dashboard's rollups (rollups.py)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import rollups


@db_periodic_task(crontab(minute="*/5"))
@lock_task("reports-rollups")
def rollups_refresh():
    """The months changed since the last refresh (the whole rollups the first time)."""
    return rollups.refresh()


@db_periodic_task(crontab(minute="20", hour="3"))
@lock_task("reports-rollups")
def rollups_rebuild():
    """Nightly full rebuild: repairs what the incremental refresh cannot see."""
    return rollups.refresh(full=True)
