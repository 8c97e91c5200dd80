"""JSON API of the catalog app (routers mounted in config/api.py)."""

from ninja import Router  # noqa: F401
