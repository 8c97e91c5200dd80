from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "tradecrm.service"
    label = "service"
    verbose_name = _("Feedback and surveys")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from . import signals  # noqa: F401  (ticket files leave the disk with their rows)
        from .texts import RENDERERS

        for kind, render in RENDERERS.items():
            register_kind(kind, render)
