"""JSON API of the orders app (routers mounted in config/api.py)."""

from ninja import Router  # noqa: F401
