"""JSON API for WhatsApp chat imports (mounted under /api/v1/whatsapp-imports)."""

from ninja import Router

whatsapp = Router(tags=["whatsapp"])
