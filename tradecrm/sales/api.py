"""JSON API of the sales app (routers mounted in config/api.py)."""

from ninja import Router  # noqa: F401
