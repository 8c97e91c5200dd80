from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "tradecrm.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from django.db.models.signals import post_save

        from tradecrm.audit.models import AuditEvent
        from tradecrm.followups.notifications import register_kind

        from .signals import on_audit_event
        from .texts import render_disabled

        post_save.connect(on_audit_event, sender=AuditEvent, dispatch_uid="integrations-webhook-events")
        register_kind("webhook_disabled", render_disabled)
