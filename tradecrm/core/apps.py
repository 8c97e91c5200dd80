from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tradecrm.core"
    label = "core"
