"""Background entry points of the pool: the nightly recall and the warnings before it."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="10", hour="2"))
@lock_task("pool-recall")
def pool_recall_nightly():
    """Recall the due customers (services.pool_recall_run); the lock keeps runs from overlapping."""
    from .services import pool_recall_run

    run = pool_recall_run(trigger="schedule")
    return {"run": run.pk, "recalled": run.recalled}


@db_periodic_task(crontab(minute="0", hour="8"))
@lock_task("pool-warn")
def pool_warn_daily():
    """Warn owners N days before a recall; a second run the same day creates nothing."""
    from .services import pool_warn_run

    return pool_warn_run()
