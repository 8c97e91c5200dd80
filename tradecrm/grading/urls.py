from django.urls import path

from . import views

app_name = "grading"

urlpatterns = [
    path("grading/settings/", views.settings_page, name="settings"),
    path("grading/settings/config/", views.config_save, name="config_save"),
    path("grading/settings/tiers/", views.tiers_save, name="tiers_save"),
    path("grading/settings/vetoes/", views.veto_create, name="veto_create"),
    path("grading/settings/vetoes/<int:pk>/delete/", views.veto_delete, name="veto_delete"),
    path("grading/runs/", views.run_list, name="runs"),
    path("grading/runs/start/", views.run_start, name="run_start"),
    path("customers/<int:company_pk>/grade/", views.company_panel, name="company_panel"),
    path("customers/<int:company_pk>/grade/override/", views.override_set, name="override_set"),
    path("customers/<int:company_pk>/grade/override/clear/", views.override_clear, name="override_clear"),
]
