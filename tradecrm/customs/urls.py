from django.urls import path

from . import views

app_name = "customs"

urlpatterns = [
    path("customs/", views.record_list, name="list"),
    path("customs/<int:pk>/", views.record_detail, name="detail"),
    path("customs/<int:pk>/link/", views.record_link, name="link"),
    path("customs/<int:pk>/unlink/", views.record_unlink, name="unlink"),
    path("customers/<int:company_pk>/customs/", views.company_panel, name="company_panel"),
]
