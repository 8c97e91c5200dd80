"""Reports, dashboards and exports. Exports stream and keep nothing."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("exports/permissions/", views.export_permissions, name="export_permissions"),
    path("exports/<slug:entity>/", views.export, name="export"),
]
