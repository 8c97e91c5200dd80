from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("followups/", views.my_day, name="my_day"),
    path("followups/team/", views.team, name="team"),
    path("followups/badge/", views.overdue_badge, name="badge"),
    path("followups/<int:pk>/edit/", views.followup_edit, name="edit"),
    path("followups/<int:pk>/complete/", views.followup_complete, name="complete"),
    path("followups/<int:pk>/cancel/", views.followup_cancel, name="cancel"),
    path("followups/<int:pk>/reopen/", views.followup_reopen, name="reopen"),
    path("followups/<int:pk>/delete/", views.followup_delete, name="delete"),
    path("customers/<int:company_pk>/followups/", views.company_panel, name="company_panel"),
    path("customers/<int:company_pk>/followups/new/", views.followup_create, name="create"),
    path("customers/<int:company_pk>/reviewed/", views.company_reviewed, name="company_reviewed"),
    path("reminder-rules/", views.rule_list, name="rule_list"),
    path("reminder-rules/new/", views.rule_create, name="rule_create"),
    path("reminder-rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("reminder-rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("reminder-rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
