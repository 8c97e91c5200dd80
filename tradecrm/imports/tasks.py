"""Background entry points of imports: the run of a job, and the watchdog that queues again a job
whose worker died (it resumes after its last committed chunk)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def run_import(job_id: int) -> None:
    from .services import import_job_run

    import_job_run(job_id)


@db_periodic_task(crontab(minute="*"))
def requeue_stalled_imports() -> list[int]:
    """A job still "running" with no committed chunk for 2 minutes lost its worker."""
    from .services import requeue_stalled

    return requeue_stalled()
