"""Saved segments (smart lists) and market notes pages."""

from django.urls import path

from . import segment_views as views

app_name = "segments"

urlpatterns = [
    path("segments/", views.segment_list, name="list"),
    path("segments/new/", views.segment_create, name="create"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="delete"),
    path("segments/<int:pk>/count/", views.segment_count, name="count"),
    path("markets/", views.market_list, name="market_list"),
    path("markets/new/", views.market_create, name="market_create"),
    path("markets/<int:pk>/", views.market_detail, name="market_detail"),
    path("markets/<int:pk>/edit/", views.market_edit, name="market_edit"),
    path("markets/<int:pk>/delete/", views.market_delete, name="market_delete"),
    path("markets/<int:market_pk>/competitors/new/", views.competitor_create, name="competitor_create"),
    path("competitors/<int:pk>/edit/", views.competitor_edit, name="competitor_edit"),
    path("competitors/<int:pk>/delete/", views.competitor_delete, name="competitor_delete"),
    path("customers/<int:company_pk>/markets/", views.company_market_panel, name="company_market_panel"),
]
