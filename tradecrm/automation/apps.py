from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "tradecrm.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from . import actions, approvals, assignment

        register_kind(assignment.NOTICE, assignment.render_notice)
        register_kind(actions.NOTICE, actions.render_notice)
        register_kind(approvals.NOTICE_REQUESTED, approvals.render_requested)
        register_kind(approvals.NOTICE_DECIDED, approvals.render_decided)
