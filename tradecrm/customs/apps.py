from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomsConfig(AppConfig):
    name = "tradecrm.customs"
    label = "customs"
    verbose_name = _("Customs records")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from .alerts import RENDERERS

        for kind, render in RENDERERS.items():
            register_kind(kind, render)
