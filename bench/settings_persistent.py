"""Bench-only settings: config.settings with persistent SQLite connections (CONN_MAX_AGE), to
measure what that setting would change. A proposal for config/settings.py, not what ships.

    .venv/bin/python bench/web.py --database sqlite --settings bench.settings_persistent
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # a connection per worker process for its lifetime: no open + PRAGMAs per request, and its page
    # cache and parsed schema survive between requests
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
