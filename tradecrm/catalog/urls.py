from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/export/", views.product_export, name="product_export"),
    path("products/import/", views.product_import, name="product_import"),
    path("products/picker/", views.product_picker, name="picker"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("products/<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("products/<int:pk>/prices/", views.product_price_set, name="product_price_set"),
    path("products/photos/<int:pk>/", views.photo_file, name="photo"),
    path("products/photos/<int:pk>/delete/", views.photo_delete, name="photo_delete"),
    path("price-lists/", views.price_list_list, name="price_list_list"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="price_list_edit"),
    path("price-lists/<int:pk>/delete/", views.price_list_delete, name="price_list_delete"),
    path("price-lists/<int:pk>/prices/", views.price_list_price_set, name="price_list_price_set"),
    path("price-lists/<int:pk>/export/", views.price_list_export, name="price_list_export"),
    path("price-lists/<int:pk>/import/", views.price_list_import, name="price_list_import"),
    path("price-lists/prices/<int:pk>/delete/", views.price_delete, name="price_delete"),
]
