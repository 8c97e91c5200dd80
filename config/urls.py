from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("tradecrm.core.urls")),
    path("", include("tradecrm.accounts.urls")),
    path("", include("tradecrm.customers.urls")),
    path("", include("tradecrm.interactions.urls")),
    path("", include("tradecrm.interactions.whatsapp_urls")),
    path("", include("tradecrm.followups.urls")),
    path("", include("tradecrm.followups.notification_urls")),
    path("", include("tradecrm.catalog.urls")),
    path("", include("tradecrm.sales.urls")),
    path("", include("tradecrm.documents.urls")),
    path("", include("tradecrm.documents.print_urls")),
    path("", include("tradecrm.orders.urls")),
    path("", include("tradecrm.imports.urls")),
    path("", include("tradecrm.dedup.urls")),
    path("", include("tradecrm.dedup.merge_urls")),
    path("", include("tradecrm.customs.urls")),
    path("", include("tradecrm.reports.urls")),
    path("", include("tradecrm.reports.dashboard_urls")),
    path("", include("tradecrm.grading.urls")),
    path("", include("tradecrm.analysis.urls")),
    path("", include("tradecrm.customers.segment_urls")),
    path("", include("tradecrm.audit.urls")),
    path("", include("tradecrm.pool.urls")),
    path("", include("tradecrm.security.urls")),
    path("", include("tradecrm.automation.urls")),
    path("", include("tradecrm.mailbox.urls")),
    path("", include("tradecrm.service.urls")),
    path("", include("tradecrm.campaigns.urls")),  # email campaigns
    path("", include("tradecrm.integrations.urls")),
]
