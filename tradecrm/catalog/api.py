"""JSON API of the catalog app: routers mounted under /api/v1/ in config/api.py."""

from ninja import Router

products = Router(tags=["products"])
price_lists = Router(tags=["price-lists"])
