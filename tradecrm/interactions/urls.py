from django.urls import path

from . import views

app_name = "interactions"

urlpatterns = [
    path("customers/<int:company_pk>/timeline/", views.company_timeline, name="company_timeline"),
    path("customers/<int:company_pk>/timeline/new/", views.interaction_create, name="create"),
    path("interactions/<int:pk>/", views.interaction_detail, name="detail"),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("interactions/<int:pk>/history/", views.interaction_history, name="history"),
    path("interactions/<int:pk>/delete/", views.interaction_delete, name="delete"),
    path("interactions/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("contacts/<int:pk>/timeline/", views.contact_timeline, name="contact_timeline"),
    path("timeline/search/", views.timeline_search, name="search"),
]
