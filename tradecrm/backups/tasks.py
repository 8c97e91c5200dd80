"""The daily backup into TRADECRM_BACKUP_DIR (default DATA_DIR/backups), keeping the newest
TRADECRM_BACKUP_KEEP (default 14)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import services

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="45", hour="2"))
@lock_task("daily-backup")
def daily_backup():
    result = services.scheduled_backup()
    log.info("backup written: %s (%s bytes), removed %s", result["path"], result["size"], result["removed"])
    return {k: result[k] for k in ("path", "size", "removed")}
