from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/status/", views.order_status, name="order_status"),
    path("orders/<int:pk>/shipments/new/", views.shipment_create, name="shipment_create"),
    path("orders/<int:pk>/payments/new/", views.payment_create, name="payment_create"),
    path(
        "proforma-invoices/<int:proforma_pk>/order/", views.create_from_proforma, name="create_from_proforma"
    ),
    path("shipments/<int:pk>/edit/", views.shipment_edit, name="shipment_edit"),
    path("shipments/<int:pk>/delete/", views.shipment_delete, name="shipment_delete"),
    path("payments/<int:pk>/delete/", views.payment_delete, name="payment_delete"),
    path("payments/fx-differences/", views.fx_report, name="fx_report"),
    path("receivables/overdue/", views.overdue, name="overdue"),
    path("receivables/<int:pk>/write-off/", views.receivable_write_off, name="receivable_write_off"),
    path("customers/<int:company_pk>/orders/", views.company_panel, name="company_panel"),
    path("customers/<int:company_pk>/purchase-history/", views.purchase_history, name="purchase_history"),
]
