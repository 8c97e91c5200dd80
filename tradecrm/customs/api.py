"""JSON API of customs records (trade records bought from data vendors)."""

from ninja import Router

customs_records = Router(tags=["customs records"])
