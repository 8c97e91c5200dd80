"""Background tasks of the core: housekeeping and the worker heartbeat shown at /healthz."""

from django.core.management import call_command
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .models import WorkerHeartbeat


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat():
    WorkerHeartbeat.objects.update_or_create(pk=1, defaults={"seen_at": timezone.now()})


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions():
    call_command("clearsessions")
