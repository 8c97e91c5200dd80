"""`tradecrm` console script: the project's management commands under one name.

    tradecrm run [--host H] [--port P]      web server + background worker
    tradecrm createuser --username U --role admin|manager|sales [--team T]
    tradecrm token create USERNAME          prints the new API token on the last line
    tradecrm offboard USERNAME --to USERNAME | --pool POOL_ID [--deactivate]   hand over a leaver's work
    tradecrm demo --companies N             realistic demo data
    tradecrm import PATH --entity companies --source trade_show [--dry-run] [--json]
    tradecrm import-undo JOB_ID · dedup · merge --keep ID ID2 · merge-undo ID · export
    tradecrm <any Django management command>   (a hyphen in its name may be written as "_")
"""

import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    argv[0] = "tradecrm"
    # `tradecrm import-undo 7` runs the Django command `import_undo`
    if len(argv) > 1 and "-" in argv[1] and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
