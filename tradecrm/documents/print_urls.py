"""URLs of the printed side of documents: seller profiles, bank accounts, PDF templates, PDFs."""

from django.urls import path

from . import print_views as views

app_name = "documents_print"

urlpatterns = [
    path("documents/quotations/<int:pk>/pdf/", views.quotation_pdf, name="quotation_pdf"),
    path("documents/proforma-invoices/<int:pk>/pdf/", views.proforma_pdf, name="proforma_pdf"),
    path("documents/company/", views.seller_list, name="seller_list"),
    path("documents/company/new/", views.seller_create, name="seller_create"),
    path("documents/company/<int:pk>/edit/", views.seller_edit, name="seller_edit"),
    path("documents/company/<int:pk>/delete/", views.seller_delete, name="seller_delete"),
    path("documents/company/<int:pk>/logo/", views.seller_logo, name="seller_logo"),
    path("documents/company/<int:seller_pk>/bank-accounts/new/", views.bank_account_create,
         name="bank_account_create"),
    path("documents/company/<int:seller_pk>/bank-accounts/<int:pk>/edit/", views.bank_account_edit,
         name="bank_account_edit"),
    path("documents/company/<int:seller_pk>/bank-accounts/<int:pk>/delete/", views.bank_account_delete,
         name="bank_account_delete"),
    path("documents/templates/", views.template_list, name="template_list"),
    path("documents/templates/new/", views.template_create, name="template_create"),
    path("documents/templates/preview/", views.template_preview_source, name="template_preview_source"),
    path("documents/templates/builtin/<slug:kind>/preview/", views.builtin_preview, name="builtin_preview"),
    path("documents/templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("documents/templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("documents/templates/<int:pk>/toggle/", views.template_toggle, name="template_toggle"),
    path("documents/templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]  # fmt: skip
