from django.urls import path

from . import views

app_name = "pool"

urlpatterns = [
    path("pool/", views.pool_list, name="list"),
    path("pool/new/", views.pool_create, name="create"),
    path("pool/runs/", views.run_list, name="runs"),
    path("pool/<int:pk>/", views.pool_detail, name="detail"),
    path("pool/<int:pk>/rules/", views.pool_rules, name="rules"),
    path("pool/customers/<int:company_pk>/claim/", views.claim, name="claim"),
    path("pool/customers/<int:company_pk>/assign/", views.assign, name="assign"),
    path("customers/<int:company_pk>/pool/", views.company_panel, name="company_panel"),
    path("customers/<int:company_pk>/pool/release/", views.release, name="release"),
    path("customers/<int:company_pk>/pool/lock/", views.lock, name="lock"),
]
