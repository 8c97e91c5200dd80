"""JSON API of saved segments (smart lists) and market notes, mounted at /api/v1/segments and
/api/v1/markets."""

from ninja import Router

segments = Router(tags=["segments"])
markets = Router(tags=["markets"])
