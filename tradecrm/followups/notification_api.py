"""JSON API for notifications (mounted under /api/v1/notifications)."""

from ninja import Router

notifications = Router(tags=["notifications"])
