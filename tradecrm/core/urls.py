from django.urls import path

from . import fx_views, help_views, views

app_name = "core"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("help/", help_views.help_index, name="help"),
    path("help/img/<str:name>", help_views.help_image, name="help_image"),
    path("help/<str:slug>/", help_views.help_page, name="help_page"),
    path("exchange-rates/", fx_views.rate_list, name="fx_list"),
    path("exchange-rates/convert/", fx_views.rate_convert, name="fx_convert"),
    path("exchange-rates/new/", fx_views.rate_create, name="fx_create"),
    path("exchange-rates/import/", fx_views.rate_import, name="fx_import"),
    path("exchange-rates/<int:pk>/edit/", fx_views.rate_edit, name="fx_edit"),
    path("exchange-rates/<int:pk>/delete/", fx_views.rate_delete, name="fx_delete"),
    path("exchange-rates/<str:pair>/", fx_views.rate_pair, name="fx_pair"),
]
