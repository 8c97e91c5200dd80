from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.event_list, name="list"),
    path("audit/<int:pk>/", views.event_detail, name="detail"),
    path("audit/customers/<int:pk>/data-export/", views.company_data_export, name="company_data_export"),
    path("audit/customers/<int:pk>/erase/", views.company_erase, name="company_erase"),
]
