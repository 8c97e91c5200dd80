"""JSON API for the timeline (mounted under /api/v1/interactions)."""

from ninja import Router

interactions = Router(tags=["interactions"])
