#!/usr/bin/env bash
# `make bench`: build the 1M-company bench databases if missing (cached under var/bench/), run
# the search and HTTP benchmarks on SQLite and PostgreSQL, print one JSON document.
# Takes ~15 minutes on a 2-core machine when the databases must be built first. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/run.py "$@"
