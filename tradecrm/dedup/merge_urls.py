from django.urls import path

from . import merge_views

app_name = "merge"

urlpatterns = [
    path("merge/companies/", merge_views.merge_companies, name="companies"),
    path("merge/contacts/", merge_views.merge_contacts, name="contacts"),
    path("merges/", merge_views.merge_list, name="list"),
    path("merges/<int:pk>/", merge_views.merge_detail, name="detail"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo, name="undo"),
]
