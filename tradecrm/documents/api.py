"""JSON API of the documents app: routers mounted under /api/v1/ in config/api.py."""

from ninja import Router

quotations = Router(tags=["quotations"])
proformas = Router(tags=["proformas"])
