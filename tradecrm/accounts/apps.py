from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tradecrm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        from . import signals  # noqa: F401  (sign-in events in the audit trail)
        from .services import OFFBOARD_NOTICE, render_offboard_notice

        register_kind(OFFBOARD_NOTICE, render_offboard_notice)
