from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.job_list, name="list"),
    path("imports/new/", views.job_new, name="new"),
    path("imports/<int:pk>/", views.job_progress, name="progress"),
    path("imports/<int:pk>/columns/", views.job_mapping, name="mapping"),
    path("imports/<int:pk>/dry-run/", views.job_report, name="report"),
    path("imports/<int:pk>/start/", views.job_start, name="start"),
    path("imports/<int:pk>/rejected.csv", views.job_rejected, name="rejected"),
    path("imports/<int:pk>/undo/", views.job_undo, name="undo"),
    path("imports/mappings/", views.mapping_list, name="mappings"),
    path("imports/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
]
