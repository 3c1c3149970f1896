"""API v1 views: each finds its objects through reporting.api.lookups (visible_to: 404
outside the person's scope), calls the same service or selector as the page, and
answers with an explicit output serializer. Errors: bpij.api.errors."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from bpij.api.base import ApiView
from bpij.api.errors import ErrorSerializer
from grantees.models import Coalition, Grant, Target
from reporting import permissions, selectors, services
from reporting.api import lookups
from reporting.api import serializers as s
from reporting.models import (
    OPEN_STATES,
    ExportKind,
    ExportStatus,
    ProgramRollup,
    Rollup,
    Submission,
    SubmissionComment,
    SubmissionState,
)
from reporting.selectors import exports as export_selectors
from reporting.services import exports

ERROR_TEXT = {
    400: "The request is not valid: `detail` says what is wrong and what would be right; "
    "`fields` names the fields.",
    401: "No token, or one that is unknown, revoked or expired.",
    403: "Your role does not allow this (nothing was changed).",
    404: "No such object for you: it does not exist, or belongs to a coalition outside your scope.",
    409: "Not yet: the version's files have not been checked, or the export is not ready.",
    413: "The file is larger than the upload limit.",
    429: "Too many requests from this token: wait Retry-After seconds.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_TEXT[code])
        for code in (401, 404, 429, *codes)
    }


CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="A UUID.")


class NotReady(exceptions.APIException):
    status_code = 409
    default_code = "not_ready"
    default_detail = (
        "The version's files have not been checked yet: poll the version (or its upload) "
        "until its state is no longer draft or checking."
    )


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class FindingCursor(CursorPagination):
    # Findings are written in file and row order; the id keeps that order and is unique.
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ListView(ApiView):
    pagination_class: type = Pages

    def paginated(self, rows: Iterable[Any], out: type[Serializer], **context: Any) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, self.request, view=self)
        data = out(page, many=True, context={"user": self.actor, **context}).data
        return paginator.get_paginated_response(data)


def _data(serializer: type[Serializer], obj: Any, user: Any) -> Any:
    return serializer(obj, context={"user": user}).data


# -- Coalitions -----------------------------------------------------------------------


class CoalitionListApi(ListView):
    @extend_schema(
        operation_id="coalitions_list",
        summary="The coalitions you may see",
        responses={200: s.CoalitionOut(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        rows = Coalition.objects.visible_to(self.actor).order_by("name")
        return self.paginated(rows, s.CoalitionOut)


class CoalitionDetailApi(ApiView):
    @extend_schema(
        operation_id="coalitions_retrieve",
        summary="A coalition, with its grants and their targets",
        responses={200: s.CoalitionDetailOut, **errors()},
    )
    def get(self, request: Request, coalition_code: str) -> Response:
        coalition = lookups.coalition(self.actor, coalition_code)
        grants = Grant.objects.visible_to(self.actor).filter(coalition=coalition)
        coalition = (
            Coalition.objects.filter(pk=coalition.pk)
            .prefetch_related(
                _prefetch("grants", grants),
                _prefetch("grants__targets", Target.objects.visible_to(self.actor)),
            )
            .get()
        )
        return Response(_data(s.CoalitionDetailOut, coalition, self.actor))


def _prefetch(lookup: str, queryset: Any) -> Any:
    from django.db.models import Prefetch

    return Prefetch(lookup, queryset=queryset)


class PeriodListApi(ApiView):
    @extend_schema(
        operation_id="periods_list",
        summary="A coalition's reporting periods that have begun, newest first",
        description="Each with its due date and state (its latest version's, or "
        "not_started / overdue). Not for the Federal Project Officer (404).",
        responses={200: s.PeriodOut(many=True), **errors()},
    )
    def get(self, request: Request, coalition_code: str) -> Response:
        coalition = lookups.reports_coalition(self.actor, coalition_code)
        rows = selectors.period_rows(coalition, today=timezone.localdate())
        return Response(s.PeriodOut(rows, many=True).data)


class SubmissionListApi(ApiView):
    @extend_schema(
        operation_id="submissions_list",
        summary="Every version of a quarter's report, newest first",
        responses={200: s.SubmissionOut(many=True), **errors()},
    )
    def get(self, request: Request, coalition_code: str, quarter: str) -> Response:
        period = lookups.period(self.actor, coalition_code, quarter)
        versions = selectors.period_versions(period, self.actor)
        for version in versions:
            version.period, version.coalition = period, period.coalition
        return Response(s.SubmissionOut(versions, many=True).data)

    @extend_schema(
        operation_id="submissions_create",
        summary="Start the quarter's report (or a new version after a return)",
        description="The quarter's open version if there is one (200), else a new draft "
        "(201); a new version after a return starts from the returned one's files and "
        "narrative. For the coalition's administrators and reporters.",
        request=None,
        responses={
            200: s.SubmissionOut,
            201: s.SubmissionOut,
            **errors(400, 403),
        },
    )
    def post(self, request: Request, coalition_code: str, quarter: str) -> Response:
        period = lookups.period(self.actor, coalition_code, quarter)
        # Refused by role first: the service hands back an open version to anyone who asks.
        if not permissions.can_start_report(self.actor, period.coalition):
            raise PermissionDenied
        existed = Submission.objects.filter(period=period, state__in=OPEN_STATES).exists()
        submission = services.submission_start(period=period, actor=self.actor)
        submission.period, submission.coalition = period, period.coalition
        return Response(
            s.SubmissionOut(submission).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


# -- A version ------------------------------------------------------------------------


class SubmissionDetailApi(ApiView):
    @extend_schema(
        operation_id="submissions_retrieve",
        summary="A version: state, files, finding totals and history",
        responses={200: s.SubmissionDetailOut, **errors()},
    )
    def get(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        summary = selectors.findings_summary(submission)
        totals = selectors.totals_of(summary)
        files = sorted(selectors.current_uploads(submission).values(), key=lambda u: u.kind)
        for upload in files:
            upload.submission = submission
        submission.current_files = files  # type: ignore[attr-defined]
        submission.finding_totals = {  # type: ignore[attr-defined]
            "errors": totals["error"],
            "warnings": totals["warning"],
            "by_rule": summary,
        }
        history = submission.events.select_related("actor").order_by("-at", "-id")[:50]
        submission.history = history  # type: ignore[attr-defined]
        return Response(s.SubmissionDetailOut(submission).data)


class UploadCreateApi(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="uploads_create",
        summary="Send the participant or placement file of a draft",
        description="The same rules as the page: the same size limit, the file stored "
        "unchanged and checked by the worker (hostile files refused there as on the "
        "page). Answers 202 while the checks run: poll GET /api/v1/uploads/{upload_code}/ "
        "until `checking` is false. The same file sent again (same SHA-256) is not "
        "stored twice (`new`: false).",
        request={"multipart/form-data": s.UploadIn},
        responses={202: s.UploadReceivedOut, 200: s.UploadReceivedOut, **errors(400, 403, 413)},
    )
    def post(self, request: Request, submission_code: str) -> Response:
        submission = lookups.editable_submission(self.actor, submission_code)
        form = s.UploadIn(data=request.data)
        form.is_valid(raise_exception=True)
        incoming = form.validated_data["file"]
        upload, new = services.upload_receive(
            submission=submission,
            kind=form.validated_data["kind"],
            stream=incoming,
            name=incoming.name,
            actor=self.actor,
        )
        # ``upload.submission`` is the service's locked copy, in its new state (checking).
        return Response(
            {"upload": s.UploadStatusOut(upload).data, "new": new},
            status=status.HTTP_202_ACCEPTED if new else status.HTTP_200_OK,
        )


class UploadDetailApi(ApiView):
    @extend_schema(
        operation_id="uploads_retrieve",
        summary="A file's check status (poll while `checking`)",
        responses={200: s.UploadStatusOut, **errors()},
    )
    def get(self, request: Request, upload_code: str) -> Response:
        return Response(s.UploadStatusOut(lookups.upload(self.actor, upload_code)).data)


class FindingListApi(ListView):
    pagination_class = FindingCursor

    @extend_schema(
        operation_id="findings_list",
        summary="The findings of a version's current files",
        description="Cursor-paginated (follow `next`), filterable like the findings page. "
        "Values are as stored: SSNs masked to their last four digits. Every read is "
        "written to the audit log (participant-level data).",
        parameters=[s.FindingFilterIn],
        responses={200: s.FindingOut(many=True), **errors(400)},
    )
    def get(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        filters = s.FindingFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        if "rule" in data:
            data["code"] = data.pop("rule")
        services.audit_findings_viewed(
            actor=self.actor, submission=submission, query=request.query_params.urlencode()
        )
        rows = selectors.filter_findings(selectors.findings_for(submission), data)
        return self.paginated(rows, s.FindingOut)


class FiguresApi(ApiView):
    @extend_schema(
        operation_id="figures_retrieve",
        summary="A checked version's figures (DATA-CONTRACT.md §6)",
        responses={200: s.FiguresOut, **errors(409)},
    )
    def get(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        if submission.state in (SubmissionState.DRAFT, SubmissionState.CHECKING):
            raise NotReady
        return Response(selectors.figures_for(submission))


class AttestationApi(ApiView):
    @extend_schema(
        operation_id="attestation_retrieve",
        summary="The attestation a certifier agrees to",
        responses={200: s.AttestationOut, **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response({"attestation": services.ATTESTATION})


class CertifyApi(ApiView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="submissions_certify",
        summary="Certify and submit a ready version (coalition administrators)",
        description="The page's attestation: `agreed` must be true and `name` is the "
        "signature; `late_reason` is required when the report is late; `confirmed` when "
        "there are warnings to confirm. The version is locked afterwards.",
        request=s.CertifyIn,
        responses={200: s.SubmissionOut, **errors(400, 403)},
    )
    def post(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        if not permissions.can_certify(self.actor, submission.coalition):
            raise PermissionDenied
        form = s.CertifyIn(data=request.data)
        form.is_valid(raise_exception=True)
        services.submission_certify(
            submission=submission,
            actor=self.actor,
            **form.validated_data,
        )
        return Response(s.SubmissionOut(submission).data)


# -- Review ---------------------------------------------------------------------------


class CommentApi(ApiView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="submissions_comments_list",
        summary="The review conversation of a version: threads and replies, oldest first",
        responses={200: s.CommentOut(many=True), **errors()},
    )
    def get(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        comments = (
            SubmissionComment.objects.visible_to(self.actor)
            .filter(submission=submission)
            .select_related("author", "parent")
            .order_by("created_at", "id")
        )
        return Response(s.CommentOut(comments, many=True).data)

    @extend_schema(
        operation_id="submissions_comment",
        summary="Comment on a sent version (reviewers), or reply (its filers)",
        request=s.CommentIn,
        responses={201: s.CommentOut, **errors(400, 403)},
    )
    def post(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        if not permissions.can_comment(self.actor, submission):
            raise PermissionDenied
        form = s.CommentIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        parent = None
        if data["parent"]:
            parent = (
                SubmissionComment.objects.visible_to(self.actor)
                .filter(submission=submission, code=data["parent"])
                .first()
            )
            if parent is None:
                raise Http404
        comment = services.submission_comment(
            submission=submission,
            actor=self.actor,
            body=data["body"],
            parent=parent,
            figure_key=data["figure_key"],
            figure_window=data["figure_window"],
            finding_key=data["finding"],
        )
        return Response(s.CommentOut(comment).data, status=status.HTTP_201_CREATED)


class ReturnApi(ApiView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="submissions_return",
        summary="Return a sent version for revision (reviewers)",
        request=s.ReturnIn,
        responses={200: s.SubmissionOut, **errors(400, 403)},
    )
    def post(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        if not permissions.can_review(self.actor, submission):
            raise PermissionDenied
        form = s.ReturnIn(data=request.data)
        form.is_valid(raise_exception=True)
        services.submission_return(
            submission=submission,
            actor=self.actor,
            reasons=form.validated_data["reasons"],
            note=form.validated_data["note"],
        )
        return Response(s.SubmissionOut(submission).data)


class AcceptApi(ApiView):
    @extend_schema(
        operation_id="submissions_accept",
        summary="Accept a sent version (program officers, JFF administrators)",
        request=None,
        responses={200: s.SubmissionOut, **errors(400, 403)},
    )
    def post(self, request: Request, submission_code: str) -> Response:
        submission = lookups.submission(self.actor, submission_code)
        if not permissions.can_accept(self.actor, submission):
            raise PermissionDenied
        services.submission_accept(submission=submission, actor=self.actor)
        return Response(s.SubmissionOut(submission).data)


# -- Roll-ups -------------------------------------------------------------------------


class CoalitionRollupListApi(ApiView):
    @extend_schema(
        operation_id="coalition_rollups_list",
        summary="A coalition's rolled-up figures, one row per quarter reported",
        description="From the version that counts in each quarter (the latest sent and "
        "not returned). The Federal Project Officer gets accepted quarters only.",
        responses={200: s.RollupOut(many=True), **errors()},
    )
    def get(self, request: Request, coalition_code: str) -> Response:
        coalition = lookups.coalition(self.actor, coalition_code)
        rows = Rollup.objects.visible_to(self.actor).filter(coalition=coalition)
        if not Submission.objects.table_visible_to(self.actor):
            rows = rows.filter(accepted=True)
        return Response(s.RollupOut(rows.order_by("quarter"), many=True).data)


class ProgramRollupListApi(ApiView):
    @extend_schema(
        operation_id="program_rollups_list",
        summary="Program-wide figures by quarter and segment (JFF staff and DOL)",
        parameters=[s.ProgramRollupFilterIn],
        responses={200: s.ProgramRollupOut(many=True), **errors(400, 403)},
    )
    def get(self, request: Request) -> Response:
        if not permissions.can_see_program(self.actor):
            raise PermissionDenied
        filters = s.ProgramRollupFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = ProgramRollup.objects.order_by("quarter", "segment")
        if filters.validated_data.get("quarter"):
            rows = rows.filter(quarter=filters.validated_data["quarter"].strip().upper())
        return Response(s.ProgramRollupOut(rows, many=True).data)


# -- Exports --------------------------------------------------------------------------


class ExportRequestApi(ApiView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="exports_create",
        summary="Ask for an export (a coalition's report, or a program-wide file)",
        description="202 while it renders (poll GET /api/v1/exports/{export_code}/), 200 when the "
        "same export was made from the same figures already.",
        request=s.ExportIn,
        responses={200: s.ExportOut, 202: s.ExportOut, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        form = s.ExportIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        coalition = lookups.coalition(self.actor, data["coalition"]) if data["coalition"] else None
        if coalition is None and not export_selectors.kinds_for(self.actor, coalition=None):
            raise PermissionDenied
        export = exports.export_request(
            actor=self.actor,
            kind=data["kind"],
            quarter=data["quarter"],
            coalition=coalition,
        )
        ready = export.status == ExportStatus.READY
        return Response(s.ExportOut(export).data, status=200 if ready else 202)


class ExportDetailApi(ApiView):
    @extend_schema(
        operation_id="exports_retrieve",
        summary="An export's status",
        responses={200: s.ExportOut, **errors(403)},
    )
    def get(self, request: Request, export_code: str) -> Response:
        return Response(s.ExportOut(lookups.export(self.actor, export_code)).data)


class ExportDownloadApi(ApiView):
    @extend_schema(
        operation_id="exports_download",
        summary="The export's file, exactly as rendered (its SHA-256 is in its status)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                bytes, description="The PDF, XLSX or zipped CSV files."
            ),
            **errors(403, 409),
        },
    )
    def get(self, request: Request, export_code: str) -> FileResponse:
        export = lookups.export(self.actor, export_code)
        if export.status != ExportStatus.READY or not export.file:
            raise NotReady("This export is not ready yet: poll its status until it is.")
        exports.export_downloaded(export=export, actor=self.actor)
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.filename,
            content_type=exports.CONTENT_TYPES[ExportKind(export.kind)],
        )
