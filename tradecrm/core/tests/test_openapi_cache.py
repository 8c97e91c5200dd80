"""/api/v1/openapi.json is built once per process and language, then served from memory."""

import ninja.main
from django.utils import translation

from config.api import api


def _count_builds(monkeypatch, *, fake: bool = False) -> list[tuple[str, str]]:
    """Record every real build of the document (path prefix, language). With `fake`, start from an
    empty cache and build a tiny stand-in document instead of the real one (~1.5 s per language)."""
    builds: list[tuple[str, str]] = []
    real_get_schema = ninja.main.get_schema

    def counting_get_schema(*, api, path_prefix):
        language = translation.get_language()
        builds.append((path_prefix, language))
        if fake:
            return {
                "info": {"title": "TradeCRM API", "language": language},
                "paths": {"/api/v1/companies": {}},
            }
        return real_get_schema(api=api, path_prefix=path_prefix)

    if fake:
        monkeypatch.setattr(api, "_openapi_cache", {})
    monkeypatch.setattr(ninja.main, "get_schema", counting_get_schema)
    return builds


def test_second_request_is_served_from_the_cache(client, db, monkeypatch):
    builds = _count_builds(monkeypatch)
    first = client.get("/api/v1/openapi.json")  # built here, unless an earlier test already did
    del builds[:]
    second = client.get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert builds == []  # not built again
    assert second.json() == first.json()
    assert "/api/v1/companies/{company_id}" in second.json()["paths"]


def test_the_cache_is_kept_per_language(monkeypatch):
    builds = _count_builds(monkeypatch, fake=True)
    with translation.override("en"):
        english = api.get_openapi_schema()
        assert api.get_openapi_schema() == english
    with translation.override("zh-hans"):
        chinese = api.get_openapi_schema()
        assert api.get_openapi_schema() == chinese
    assert english["info"]["language"] == "en" and chinese["info"]["language"] == "zh-hans"
    assert builds == [("/api/v1/", "en"), ("/api/v1/", "zh-hans")]  # once per language, not per call


def test_callers_cannot_change_the_cached_document(monkeypatch):
    builds = _count_builds(monkeypatch, fake=True)
    doc = api.get_openapi_schema()
    doc["paths"].clear()
    doc["info"]["title"] = "changed"
    again = api.get_openapi_schema()
    assert again["info"]["title"] == "TradeCRM API" and again["paths"]
    assert len(builds) == 1
