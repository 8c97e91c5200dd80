from django.urls import path

from . import team_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("account/", views.preferences, name="preferences"),
    path("settings/users/", views.user_list, name="users"),
    path("settings/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:pk>/offboard/", views.user_offboard, name="user_offboard"),
    path("settings/roles/", views.role_list, name="roles"),
    # departments and teams
    path("settings/teams/", team_views.team_list, name="teams"),
    path("settings/teams/<int:pk>/", team_views.team_edit, name="team_edit"),
]
