from django.urls import path

from reporting import views
from reporting.views import board as board_views
from reporting.views import dashboards as dashboard_views
from reporting.views import exports as export_views
from reporting.views import notifications, operations, review

app_name = "reporting"

urlpatterns = [
    path("reviews/", review.review_queue, name="review-queue"),
    path(
        "notifications/",
        notifications.notification_settings,
        name="notification-settings",
    ),
    path(
        "submissions/<uuid:submission_code>/review/",
        review.submission_review,
        name="submission-review",
    ),
    path(
        "submissions/<uuid:submission_code>/review/start/",
        review.review_start,
        name="review-start",
    ),
    path(
        "submissions/<uuid:submission_code>/comments/",
        review.comment_post,
        name="comment-post",
    ),
    path(
        "submissions/<uuid:submission_code>/return/",
        review.submission_return,
        name="submission-return",
    ),
    path(
        "submissions/<uuid:submission_code>/accept/",
        review.submission_accept,
        name="submission-accept",
    ),
    path("coalitions/<uuid:coalition_code>/reports/", views.period_list, name="period-list"),
    path(
        "coalitions/<uuid:coalition_code>/reports/<str:quarter>/",
        views.period_detail,
        name="period-detail",
    ),
    path(
        "coalitions/<uuid:coalition_code>/reports/<str:quarter>/start/",
        views.submission_start,
        name="submission-start",
    ),
    path(
        "coalitions/<uuid:coalition_code>/reports/<str:quarter>/start-from/<str:kind>.xlsx",
        views.template_from_accepted,
        name="template-from-accepted",
    ),
    path("submissions/<uuid:submission_code>/upload/", views.upload, name="upload"),
    path(
        "submissions/<uuid:submission_code>/check-again/",
        views.check_again,
        name="check-again",
    ),
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
    path(
        "submissions/<uuid:submission_code>/receipt/",
        views.submission_receipt,
        name="submission-receipt",
    ),
    path("submissions/<uuid:submission_code>/findings/", views.findings, name="findings"),
    path(
        "submissions/<uuid:submission_code>/findings/<str:rule>.csv",
        views.findings_list,
        name="findings-list",
    ),
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
    path("board/", board_views.board, name="board"),
    path("board/export.<str:fmt>", board_views.board_export, name="board-export"),
    path("board/remind/", board_views.board_remind, name="board-remind"),
    path("reminders/", board_views.reminder_list, name="reminder-list"),
    path("operations/", operations.operations, name="operations"),
    path("program/", dashboard_views.program_dashboard, name="program-dashboard"),
    path("coalitions/<uuid:coalition_code>/exports/", export_views.export_list, name="export-list"),
    path(
        "coalitions/<uuid:coalition_code>/exports/request/",
        export_views.export_request,
        name="export-request",
    ),
    path("exports/", export_views.program_exports, name="program-exports"),
    path("exports/request/", export_views.program_export_request, name="program-export-request"),
    path("exports/<uuid:export_code>/status/", export_views.export_status, name="export-status"),
    path(
        "exports/<uuid:export_code>/download/", export_views.export_download, name="export-download"
    ),
]
