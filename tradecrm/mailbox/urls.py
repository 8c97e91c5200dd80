from django.urls import path

from . import views

app_name = "mailbox"

urlpatterns = [
    path("mail/", views.mail_home, name="home"),
    path("mail/mailboxes/new/", views.mailbox_create, name="mailbox_create"),
    path("mail/mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("mail/mailboxes/<int:pk>/sync/", views.mailbox_sync_now, name="mailbox_sync"),
    path("mail/mailboxes/<int:pk>/delete/", views.mailbox_delete, name="mailbox_delete"),
    path("mail/messages/<int:pk>/", views.message_detail, name="message"),
    path("mail/threads/<int:pk>/private/", views.thread_private, name="thread_private"),
    path("mail/attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("mail/senders/<int:pk>/customer/", views.sender_customer, name="sender_customer"),
    path("mail/senders/<int:pk>/dismiss/", views.sender_dismiss, name="sender_dismiss"),
    path("mail/templates/", views.template_list, name="templates"),
    path("mail/templates/new/", views.template_edit, name="template_create"),
    path("mail/templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("customers/<int:company_pk>/mail/", views.company_panel, name="company_panel"),
    path("customers/<int:company_pk>/mail/compose/", views.compose, name="compose"),
    path("t/c/<str:token>/", views.track_click, name="track_click"),
    path("t/o/<str:token>.gif", views.track_open, name="track_open"),
    path("t/u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
