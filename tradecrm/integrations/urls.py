from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("integrations/webhooks/", views.endpoint_list, name="endpoint_list"),
    path("integrations/webhooks/<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("integrations/webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("integrations/deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("integrations/deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
    path("capture/", views.capture, name="capture"),
    # the PWA: at the root, so that the service worker may control every page
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
]
