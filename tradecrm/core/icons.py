"""Tabler icons inlined as SVG (the files are copied into static/vendor/icons/ by
scripts/copy_vendor.py). Inline SVG needs no icon font and no extra request, and it renders the
same in every browser, where emoji pictographs depend on the fonts installed."""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ICON_DIR = settings.BASE_DIR / "static" / "vendor" / "icons"


@cache
def _svg(name: str) -> str:
    path = ICON_DIR / f"{name}.svg"
    if not re.fullmatch(r"[a-z0-9-]+", name) or not path.is_file():
        raise ValueError(f"unknown icon {name!r}: add it to ICONS in scripts/copy_vendor.py")
    svg = " ".join(path.read_text().split())
    return svg.replace("> <", "><").replace(
        ' class="icon icon-tabler', ' aria-hidden="true" class="icon icon-tabler'
    )


def icon(name: str, extra_class: str = "") -> SafeString:
    svg = _svg(name)
    if extra_class:
        svg = svg.replace('class="icon ', f'class="icon {escape(extra_class)} ', 1)
    return mark_safe(svg)  # a file of ours, not user input
