"""JSON API of the sales app: routers mounted under /api/v1/ in config/api.py."""

from ninja import Router

inquiries = Router(tags=["inquiries"])
opportunities = Router(tags=["opportunities"])
pipelines = Router(tags=["pipelines"])
samples = Router(tags=["samples"])
