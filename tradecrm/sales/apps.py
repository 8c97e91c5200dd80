from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "tradecrm.sales"
    label = "sales"
    verbose_name = _("Inquiries and opportunities")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from . import stale  # registers the stale-opportunity step of the reminder scan

        register_kind(stale.KIND, stale.render_stale)
