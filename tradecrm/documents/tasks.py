"""Background entry points of the documents app."""

from huey.contrib.djhuey import db_task


@db_task()
def warm_document_pdf(kind: str, document_id: int) -> list[str]:
    """Render a just-issued document's PDF into the cache (a 200-line quotation takes about a
    second), so the rep's first download does not wait for it."""
    from . import print_services
    from .models import ProformaInvoice, Quotation

    model = Quotation if kind == "quotation" else ProformaInvoice
    document = model.objects.filter(pk=document_id).first()
    return print_services.warm_pdf_cache(document) if document is not None else []


def queue_pdf_warmup(kind: str, document_id: int) -> None:
    """Queue warm_document_pdf once the issuing transaction has committed (never for a rolled
    back issue); TRADECRM_PDF_PREWARM=0 turns it off."""
    from django.conf import settings
    from django.db import transaction

    if getattr(settings, "TRADECRM_PDF_PREWARM", True):
        transaction.on_commit(lambda: warm_document_pdf(kind, document_id))
