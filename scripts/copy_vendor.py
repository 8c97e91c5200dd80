"""Copy the browser assets the web UI needs from node_modules/ into static/vendor/.

Run after `npm ci`. static/vendor/ is generated (git-ignored); the exact versions come from
package.json / package-lock.json. Source maps are copied too because the manifest static-files
storage follows their `sourceMappingURL` comments during collectstatic.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "static" / "vendor"

# (file under node_modules, destination under static/vendor)
FILES = [
    ("@tabler/core/dist/css/tabler.min.css", "tabler/tabler.min.css"),
    ("@tabler/core/dist/css/tabler.min.css.map", "tabler/tabler.min.css.map"),
    ("@tabler/core/dist/js/tabler.min.js", "tabler/tabler.min.js"),
    ("@tabler/core/dist/js/tabler.min.js.map", "tabler/tabler.min.js.map"),
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("tom-select/dist/js/tom-select.complete.min.js", "tom-select/tom-select.complete.min.js"),
    ("tom-select/dist/js/tom-select.complete.min.js.map", "tom-select/tom-select.complete.min.js.map"),
    ("tom-select/dist/css/tom-select.bootstrap5.min.css", "tom-select/tom-select.bootstrap5.min.css"),
    ("tom-select/dist/css/tom-select.bootstrap5.min.css.map", "tom-select/tom-select.bootstrap5.min.css.map"),
    # Tabler's own styling of Tom Select (and other plugins), matching its form controls
    ("@tabler/core/dist/css/tabler-vendors.min.css", "tabler/tabler-vendors.min.css"),
    ("@tabler/core/dist/css/tabler-vendors.min.css.map", "tabler/tabler-vendors.min.css.map"),
    # drag and drop on the pipeline board (loaded by that page only)
    ("sortablejs/Sortable.min.js", "sortablejs/Sortable.min.js"),
]

# Tabler icons inlined into pages by tradecrm.core.icons (only the ones the UI uses)
ICONS = """
    phone mail users video brand-whatsapp brand-wechat message-circle map-pin building-store package note
    bell calendar-event arrow-down-left arrow-up-right arrows-exchange paperclip clock check alert-triangle
    calendar-off
""".split()
FILES += [(f"@tabler/icons/icons/outline/{n}.svg", f"icons/{n}.svg") for n in ICONS]


def main() -> int:
    missing = [src for src, _ in FILES if not (NODE / src).is_file()]
    if missing:
        print(
            "copy_vendor: missing in node_modules (run `npm ci` first): " + ", ".join(missing),
            file=sys.stderr,
        )
        return 1
    if DEST.exists():
        shutil.rmtree(DEST)
    for src, dst in FILES:
        target = DEST / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    print(f"copy_vendor: {len(FILES)} files into {DEST.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
