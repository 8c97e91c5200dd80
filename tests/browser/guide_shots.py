"""Screenshots of the browser tests. Every one lands in test-artifacts/ (full page, for looking at
a failure); the ones named for the user guide are also written to docs/user-guide/img/ when
TRADECRM_GUIDE_SCREENSHOTS=1 (`make screenshots`), so the guide's pictures always show the
current screens."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
GUIDE_IMAGES = ROOT / "docs" / "user-guide" / "img"


def shot(page, name: str, *, guide: str | None = None) -> Path:
    """Save `name` under test-artifacts/; with `guide`, also docs/user-guide/img/<guide>.png (the
    visible window only: what the reader would see on the screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    if guide and os.environ.get("TRADECRM_GUIDE_SCREENSHOTS") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(GUIDE_IMAGES / f"{guide}.png"), full_page=False)
    return path
