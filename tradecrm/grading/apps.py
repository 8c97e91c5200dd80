from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def render_tier_changed(p: dict) -> str:
    from django.utils.translation import gettext

    if p.get("reason") == "override":
        return gettext("%(company)s was set to tier %(to)s by hand (was %(from)s)") % p
    return gettext("%(company)s moved from tier %(from)s to tier %(to)s") % p


class GradingConfig(AppConfig):
    name = "tradecrm.grading"
    label = "grading"
    verbose_name = _("Customer grading")

    def ready(self):
        from tradecrm.followups.notifications import register_kind

        register_kind("tier_changed", render_tier_changed)
