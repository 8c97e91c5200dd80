"""Background entry points of customer analysis: a clustering run, the association rules (on
demand and nightly, after the grading run has refreshed the RFM columns)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import clustering, recommend
from .models import ClusterRun, RuleRun, RunStatus


@db_task()
def cluster_run(run_id: int):
    run = ClusterRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).first()
    if run is not None:
        clustering.execute(run)


@db_task()
def rule_run(run_id: int):
    run = RuleRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).first()
    if run is not None:
        recommend.execute(run)


@db_periodic_task(crontab(minute="30", hour="5"))
@lock_task("analysis-nightly")
def analysis_nightly():
    """Rules and clusters (same k as the last run) every night."""
    from django.utils import timezone

    rules = RuleRun.objects.create(created_at=timezone.now(), trigger="schedule")
    recommend.execute(rules)
    last = ClusterRun.objects.filter(status=RunStatus.DONE).first()
    run = ClusterRun.objects.create(created_at=timezone.now(), trigger="schedule",
                                    k=last.k if last else clustering.K_DEFAULT)  # fmt: skip
    clustering.execute(run)
    return {"rules": rules.status, "clusters": run.status}
