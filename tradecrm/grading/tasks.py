"""Background entry points of grading: the nightly recalculation and one requested by hand."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(minute="10", hour="1"))
@lock_task("grading-run")
def grading_nightly():
    from .engine import run

    return run(trigger="schedule").pk


@db_task()
@lock_task("grading-run")
def grading_run(trigger: str = "manual", actor_id: int | None = None):
    from tradecrm.accounts.models import User

    from .engine import run

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return run(trigger=trigger, actor=actor).pk
