from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tradecrm.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from .context import install_task_hooks

        install_task_hooks()
