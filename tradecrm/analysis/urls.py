from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("analysis/segments/", views.segments, name="segments"),
    path("analysis/customers/", views.customer_list, name="customers"),
    path("analysis/win-back/", views.win_back, name="win_back"),
    path("analysis/win-back/<int:company_pk>/followup/", views.win_back_followup, name="win_back_followup"),
    path("analysis/clusters/", views.clusters, name="clusters"),
    path("analysis/clusters/run/", views.cluster_start, name="cluster_start"),
    path("analysis/recommendations/", views.rules, name="rules"),
    path("analysis/recommendations/run/", views.rules_start, name="rules_start"),
    path("customers/<int:company_pk>/recommendations/", views.company_panel, name="company_panel"),
]
