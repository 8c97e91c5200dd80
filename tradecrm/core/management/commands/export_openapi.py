"""Write the API's OpenAPI document to docs/api/openapi.json, or check that the committed one is
current (`--check`, for CI: exits 1 and says so when the API changed but the file did not)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

DEFAULT_PATH = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.json"


def build_openapi_text() -> str:
    from config.api import api

    # The document is published in English whatever the shell's locale.
    with translation.override("en"):
        schema = api.get_openapi_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, default=str) + "\n"


@functools.cache
def openapi_text() -> str:
    """The document, built once per process (~1.4 s for 100+ paths): the API does not change
    while a process runs."""
    return build_openapi_text()


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ to docs/api/openapi.json (or --check that it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 if the file differs from the API.")
        parser.add_argument("--output", default=str(DEFAULT_PATH), help="Where the document lives.")

    def handle(self, *args, check: bool = False, output: str = "", **options):
        path = Path(output)
        text = openapi_text()
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != text:
                raise CommandError(
                    f"{path} is out of date with the API; run `manage.py export_openapi` and commit it.",
                    returncode=1,
                )
            self.stdout.write(f"{path} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
