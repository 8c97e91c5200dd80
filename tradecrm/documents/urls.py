from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("documents/quotations/", views.quotation_list, name="quotation_list"),
    path("documents/quotations/new/", views.quotation_create, name="quotation_create"),
    path("documents/quotations/<int:pk>/", views.quotation_detail, name="quotation_detail"),
    path("documents/quotations/<int:pk>/edit/", views.quotation_edit, name="quotation_edit"),
    path("documents/quotations/<int:pk>/delete/", views.quotation_delete, name="quotation_delete"),
    path("documents/quotations/<int:pk>/do/<slug:action>/", views.quotation_action, name="quotation_action"),
    path("documents/proformas/", views.proforma_list, name="proforma_list"),
    path("documents/proformas/new/", views.proforma_create, name="proforma_create"),
    path("documents/proformas/<int:pk>/", views.proforma_detail, name="proforma_detail"),
    path("documents/proformas/<int:pk>/edit/", views.proforma_edit, name="proforma_edit"),
    path("documents/proformas/<int:pk>/delete/", views.proforma_delete, name="proforma_delete"),
    path("documents/proformas/<int:pk>/do/<slug:action>/", views.proforma_action, name="proforma_action"),
    path("documents/lines/", views.line_editor, name="line_editor"),
    path("customers/<int:company_pk>/documents/", views.company_panel, name="company_panel"),
]
