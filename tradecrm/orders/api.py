"""JSON API of the orders app: routers mounted under /api/v1/ in config/api.py."""

from ninja import Router

orders = Router(tags=["orders"])
shipments = Router(tags=["shipments"])
receivables = Router(tags=["receivables"])
payments = Router(tags=["payments"])
