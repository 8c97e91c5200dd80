from django.urls import path  # noqa: F401

from . import merge_views  # noqa: F401

app_name = "merge"

urlpatterns: list = []
