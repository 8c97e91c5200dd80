from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.event_list, name="list"),
    path("audit/<int:pk>/", views.event_detail, name="detail"),
]
