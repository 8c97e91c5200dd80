"""JSON API of the duplicate check: check while typing, candidate groups from the sweep."""

from ninja import Router

duplicates = Router(tags=["duplicates"])
