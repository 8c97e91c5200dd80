from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "tradecrm.followups"
    label = "followups"
    verbose_name = _("Follow-ups and reminders")

    def ready(self):
        from . import digest_tasks  # noqa: F401  (registers the hourly digest task with huey)
