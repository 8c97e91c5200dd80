"""Saved segments (smart lists) and market notes pages."""

from django.urls import path  # noqa: F401

app_name = "segments"

urlpatterns: list = []
