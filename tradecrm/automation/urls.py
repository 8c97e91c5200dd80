from django.urls import path

from . import views

app_name = "automation"

urlpatterns = [
    path("automation/", views.rule_list, name="rules"),
    path("automation/new/", views.rule_form, name="rule_create"),
    path("automation/rows/condition/", views.condition_row, name="condition_row"),
    path("automation/rows/action/", views.action_row, name="action_row"),
    path("automation/runs/", views.run_list, name="runs"),
    path("automation/<int:pk>/", views.rule_form, name="rule_edit"),
    path("automation/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("automation/<int:pk>/dry-run/", views.rule_dry_run, name="rule_dry_run"),
    path("automation/<int:pk>/test/", views.rule_test, name="rule_test"),
    path("automation/assignment/", views.assignment_list, name="assignment"),
    path("automation/assignment/test/", views.assignment_test, name="assignment_test"),
    path("automation/assignment/<int:pk>/move/", views.assignment_move, name="assignment_move"),
    path("automation/assignment/<int:pk>/toggle/", views.assignment_toggle, name="assignment_toggle"),
    path("automation/assignment/<int:pk>/delete/", views.assignment_delete, name="assignment_delete"),
    path("approvals/", views.approval_list, name="approvals"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("approvals/pool-claim/<int:company_pk>/", views.approval_pool_claim, name="approval_pool_claim"),
    path("approvals/proforma-credit/<int:proforma_pk>/", views.approval_proforma_credit,
         name="approval_proforma_credit"),
]
