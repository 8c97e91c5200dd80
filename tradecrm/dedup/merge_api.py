"""JSON API of merges: merge companies or contacts, list merges, undo."""

from ninja import Router

merges = Router(tags=["merges"])
