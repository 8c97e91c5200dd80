from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.company_list, name="company_list"),
    path("customers/new/", views.company_create, name="company_create"),
    path("customers/<int:pk>/", views.company_detail, name="company_detail"),
    path("customers/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("customers/<int:pk>/delete/", views.company_delete, name="company_delete"),
    path("customers/<int:pk>/reveal/", views.company_reveal, name="company_reveal"),
    path("customers/<int:company_pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("tags/", views.tag_list, name="tag_list"),
    path("tags/new/", views.tag_create, name="tag_create"),
    path("tags/<int:pk>/edit/", views.tag_edit, name="tag_edit"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag_delete"),
]
