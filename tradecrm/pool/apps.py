from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "tradecrm.pool"
    label = "pool"
    verbose_name = _("Public pool")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from .texts import RENDERERS

        for kind, render in RENDERERS.items():
            register_kind(kind, render)
