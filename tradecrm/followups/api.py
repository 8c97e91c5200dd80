"""JSON API for follow-ups and reminder rules (mounted under /api/v1/followups, /api/v1/reminder-rules)."""

from ninja import Router

followups = Router(tags=["followups"])
rules = Router(tags=["reminder rules"])
