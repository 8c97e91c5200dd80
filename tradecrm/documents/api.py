"""JSON API of the documents app (routers mounted in config/api.py)."""

from ninja import Router  # noqa: F401
