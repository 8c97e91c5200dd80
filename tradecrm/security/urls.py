from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("login/code/", views.login_verify, name="login_verify"),
    path("login/two-factor-setup/", views.login_enroll, name="login_enroll"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/api-tokens/", views.token_list, name="tokens"),
    path("account/api-tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/security/", views.admin_page, name="admin"),
    path("settings/security/unlock/", views.admin_unlock, name="unlock"),
    path(
        "settings/security/users/<int:pk>/reset-two-factor/",
        views.admin_reset_two_factor,
        name="reset_two_factor",
    ),
]
