from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("tradecrm.core.urls")),
    path("", include("tradecrm.accounts.urls")),
    path("", include("tradecrm.customers.urls")),
]
