"""Dashboard and reports pages."""

from django.urls import path

from . import dashboard_views as views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", views.dashboard, name="index"),
    path("reports/<slug:key>/", views.report, name="report"),
    path("reports/<slug:key>/export/", views.report_export, name="export"),
]
