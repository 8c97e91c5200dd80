"""The committed docs/api/openapi.json must describe the API as it is."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tradecrm.core.management.commands.export_openapi import DEFAULT_PATH, build_openapi_text, openapi_text


def test_committed_openapi_file_is_current():
    assert DEFAULT_PATH.read_text(encoding="utf-8") == openapi_text(), (
        "docs/api/openapi.json is stale: run `.venv/bin/python manage.py export_openapi` and commit it"
    )


def test_check_fails_on_a_stale_file_and_export_fixes_it(tmp_path):
    path = tmp_path / "openapi.json"
    path.write_text('{"openapi": "3.1.0", "paths": {}}\n')
    with pytest.raises(CommandError) as exc:
        call_command("export_openapi", "--check", "--output", str(path))
    assert exc.value.returncode == 1
    call_command("export_openapi", "--output", str(path))
    assert path.read_text(encoding="utf-8") == DEFAULT_PATH.read_text(encoding="utf-8")  # current, see above


def test_document_does_not_depend_on_the_active_language(settings):
    from django.utils import translation

    with translation.override("zh-hans"):  # built afresh, not the cached English one
        assert build_openapi_text() == DEFAULT_PATH.read_text(encoding="utf-8")
