"""JSON API of the documents app: routers mounted under /api/v1/ in config/api.py."""

from ninja import Router

document_pdfs = Router(tags=["document-pdfs"])
sellers = Router(tags=["sellers"])
document_templates = Router(tags=["document-templates"])
