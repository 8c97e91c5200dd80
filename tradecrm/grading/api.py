"""JSON API of customer grades, tiers and grading runs, mounted at /api/v1/grading."""

from ninja import Router

grading = Router(tags=["grading"])
