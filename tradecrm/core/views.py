from datetime import timedelta

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from .models import WorkerHeartbeat


def healthz(request):
    """Liveness for monitors: database reachable, worker seen in the last 3 minutes."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    beat = WorkerHeartbeat.objects.filter(pk=1).values_list("seen_at", flat=True).first()
    worker_ok = bool(beat and timezone.now() - beat < timedelta(minutes=3))
    return JsonResponse({"database": "ok", "worker": "ok" if worker_ok else "not seen",
                         "worker_seen_at": beat.isoformat() if beat else None})
