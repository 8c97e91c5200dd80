from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("service/tickets/", views.ticket_list, name="ticket_list"),
    path("service/tickets/new/", views.ticket_create, name="ticket_create"),
    path("service/tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("service/tickets/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("service/tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("service/tickets/<int:pk>/comment/", views.ticket_comment, name="ticket_comment"),
    path("service/tickets/<int:pk>/timeline/", views.ticket_timeline, name="ticket_timeline"),
    path("service/tickets/<int:pk>/files/", views.ticket_files_upload, name="ticket_files"),
    path("service/files/<int:pk>/", views.ticket_file_download, name="ticket_file"),
    path("service/files/<int:pk>/delete/", views.ticket_file_delete, name="ticket_file_delete"),
    path("service/settings/", views.service_settings, name="settings"),
    path("service/surveys/", views.survey_list, name="survey_list"),
    path("service/reports/causes/", views.causes_report, name="causes_report"),
    path("service/reports/surveys/", views.survey_report, name="survey_report"),
    path("customers/<int:company_pk>/service/", views.company_panel, name="company_panel"),
    # public (no login): the signed links of the survey emails
    path("survey/<str:lang>/<str:token>/", views.survey_page, name="survey_page"),
    path("survey/<str:lang>/<str:token>/<int:score>/", views.survey_score, name="survey_score"),
]
