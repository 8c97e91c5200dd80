from django.urls import path

from . import whatsapp_views

app_name = "whatsapp"

urlpatterns = [
    path("customers/<int:pk>/whatsapp-import/", whatsapp_views.whatsapp_import_view, name="import"),
]
