"""JSON API of automation: each (prefix, router) in ROUTERS is mounted under /api/v1/."""

from ninja import Router  # noqa: F401

ROUTERS: list[tuple[str, Router]] = []
