from django.urls import path

from reporting.api import views

app_name = "api-v1"

urlpatterns = [
    path("coalitions/", views.CoalitionListApi.as_view(), name="coalition-list"),
    path(
        "coalitions/<uuid:coalition_code>/",
        views.CoalitionDetailApi.as_view(),
        name="coalition-detail",
    ),
    path(
        "coalitions/<uuid:coalition_code>/periods/",
        views.PeriodListApi.as_view(),
        name="period-list",
    ),
    path(
        "coalitions/<uuid:coalition_code>/periods/<str:quarter>/submissions/",
        views.SubmissionListApi.as_view(),
        name="submission-list",
    ),
    path(
        "coalitions/<uuid:coalition_code>/rollups/",
        views.CoalitionRollupListApi.as_view(),
        name="coalition-rollups",
    ),
    path("program/rollups/", views.ProgramRollupListApi.as_view(), name="program-rollups"),
    path(
        "submissions/<uuid:submission_code>/",
        views.SubmissionDetailApi.as_view(),
        name="submission",
    ),
    path(
        "submissions/<uuid:submission_code>/uploads/",
        views.UploadCreateApi.as_view(),
        name="upload-create",
    ),
    path(
        "submissions/<uuid:submission_code>/findings/",
        views.FindingListApi.as_view(),
        name="findings",
    ),
    path("submissions/<uuid:submission_code>/figures/", views.FiguresApi.as_view(), name="figures"),
    path("submissions/<uuid:submission_code>/certify/", views.CertifyApi.as_view(), name="certify"),
    path(
        "submissions/<uuid:submission_code>/comments/", views.CommentApi.as_view(), name="comment"
    ),
    path("submissions/<uuid:submission_code>/return/", views.ReturnApi.as_view(), name="return"),
    path("submissions/<uuid:submission_code>/accept/", views.AcceptApi.as_view(), name="accept"),
    path("uploads/<uuid:upload_code>/", views.UploadDetailApi.as_view(), name="upload"),
    path("attestation/", views.AttestationApi.as_view(), name="attestation"),
    path("exports/", views.ExportRequestApi.as_view(), name="export-create"),
    path("exports/<uuid:export_code>/", views.ExportDetailApi.as_view(), name="export"),
    path(
        "exports/<uuid:export_code>/download/",
        views.ExportDownloadApi.as_view(),
        name="export-download",
    ),
]
