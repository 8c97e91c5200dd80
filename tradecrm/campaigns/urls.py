from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_edit, name="create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/preview/", views.campaign_preview, name="preview"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="launch"),
    path("campaigns/<int:pk>/<str:action>/", views.campaign_action, name="action"),
]
