"""URLs of the printed side of documents: seller profiles, bank accounts, PDF templates, PDFs."""

from django.urls import path  # noqa: F401

app_name = "documents_print"

urlpatterns: list = []
