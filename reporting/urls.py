from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("coalitions/<uuid:code>/reports/", views.period_list, name="period-list"),
    path(
        "coalitions/<uuid:code>/reports/<str:quarter>/",
        views.period_detail,
        name="period-detail",
    ),
    path(
        "coalitions/<uuid:code>/reports/<str:quarter>/start/",
        views.submission_start,
        name="submission-start",
    ),
    path("submissions/<uuid:submission_code>/upload/", views.upload, name="upload"),
    path(
        "submissions/<uuid:submission_code>/status/",
        views.submission_status,
        name="submission-status",
    ),
    path(
        "submissions/<uuid:submission_code>/narrative/",
        views.narrative_save,
        name="narrative-save",
    ),
    path("submissions/<uuid:submission_code>/certify/", views.certify, name="certify"),
    path("submissions/<uuid:submission_code>/findings/", views.findings, name="findings"),
    path("submissions/<uuid:submission_code>/preview/", views.preview, name="preview"),
    path("uploads/<uuid:upload_code>/original/", views.upload_original, name="upload-original"),
    path(
        "uploads/<uuid:upload_code>/annotated.xlsx",
        views.upload_annotated,
        name="upload-annotated",
    ),
    path(
        "reports/templates/<str:kind>.<str:fmt>",
        views.template_download,
        name="template-download",
    ),
]
