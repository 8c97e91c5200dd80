from django.urls import path

from . import views

app_name = "dedup"

urlpatterns = [
    path("duplicates/", views.duplicate_groups, name="groups"),
    path("duplicates/dismiss/", views.dismiss, name="dismiss"),
    path("duplicates/sweep/", views.sweep_now, name="sweep"),
    path("duplicates/check/company/", views.check_company, name="check_company"),
    path("duplicates/check/contact/", views.check_contact, name="check_contact"),
]
