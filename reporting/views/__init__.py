import csv
import io

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from bpij import security
from bpij.http import AuthedRequest, attachment
from bpij.tenancy import get_visible_or_404
from grantees.models import Coalition
from reporting import forms, permissions, selectors, services, spreadsheets
from reporting.checks import rules
from reporting.models import (
    ReportingPeriod,
    ReturnReason,
    Submission,
    SubmissionState,
    Upload,
    UploadStatus,
)
from reporting.selectors import certify as certify_selectors
from reporting.selectors import reports as report_selectors
from reporting.services import check_notices
from reporting.views import review


def _period(request: AuthedRequest, coalition_code, quarter: str) -> ReportingPeriod:
    coalition = _reports_coalition(request, coalition_code)
    return get_visible_or_404(
        ReportingPeriod.objects.select_related("coalition", "grant"),
        request.user,
        coalition=coalition,
        quarter=quarter.upper(),
    )


def _submission(request: AuthedRequest, code) -> Submission:
    return get_visible_or_404(
        Submission.objects.select_related("period__coalition", "period__grant", "coalition"),
        request.user,
        code=code,
    )


def _editable_submission(request: AuthedRequest, code) -> Submission:
    submission = _submission(request, code)
    if not permissions.can_edit_submission(request.user, submission):
        raise PermissionDenied
    return submission


def _reports_coalition(request: AuthedRequest, code) -> Coalition:
    """The coalition whose report pages these are. The pages are made of submissions,
    which the Federal Project Officer may not read (drafts, narratives, files, who sent
    them): for them the pages do not exist, like a version's review page."""
    if not Submission.objects.table_visible_to(request.user):
        raise Http404
    return get_visible_or_404(Coalition.objects, request.user, code=code)


def period_list(request: AuthedRequest, coalition_code) -> HttpResponse:
    """A coalition's quarterly reports, newest first, with status and due date."""
    coalition = _reports_coalition(request, coalition_code)
    rows = selectors.period_rows(coalition, today=timezone.localdate())
    return render(
        request,
        "reporting/period_list.html",
        {"coalition": coalition, "rows": rows, "role": coalition.role_of(request.user)},
    )


@never_cache
def period_detail(request: AuthedRequest, coalition_code, quarter: str) -> HttpResponse:
    """The quarter's report: files and their checks, preview, narrative, certification."""
    period = _period(request, coalition_code, quarter)
    # Every version of the quarter in one query: the newest is the one the page is about,
    # all of them are the "Versions" list (the page's query budget: docs/reporting.md).
    versions = selectors.period_versions(period, request.user)
    submission = versions[0] if versions else None
    if submission is not None and submission.state == SubmissionState.CHECKING:
        check_notices.page_seen(submission, request.user)
    context = _submission_context(request, period, submission, versions=versions)
    return render(request, "reporting/period_detail.html", context)


def _submission_context(
    request: AuthedRequest,
    period,
    submission,
    certify_form: forms.CertifyForm | None = None,
    *,
    versions: list[Submission] | None = None,
) -> dict:
    coalition = period.coalition
    today = timezone.localdate()
    if submission is not None:
        # The page's period (with its coalition and grant) is the submission's: reading
        # them through the submission would fetch them again.
        submission.period, submission.coalition = period, coalition
    context = {
        "coalition": coalition,
        "period": period,
        "submission": submission,
        "today": today,
        "certify_opens": certify_selectors.certify_opens(period),
        "days_late": certify_selectors.days_late(period, today),
        "can_edit": bool(submission and permissions.can_edit_submission(request.user, submission))
        or (submission is None and permissions.can_start_report(request.user, coalition)),
        "can_certify": permissions.can_certify(request.user, coalition),
        "upload_form": forms.UploadForm(),
        "attestation": services.ATTESTATION,
        "can_download_originals": permissions.can_download_originals(request.user, coalition),
    }
    accepted: Submission | None = None
    if context["can_download_originals"]:
        # The next cumulative file starts from the last accepted report's.
        accepted = services.last_accepted(period)
    # The current files of the version and of the last accepted report, in one query.
    wanted = [s for s in (submission, accepted) if s is not None]
    files = selectors.current_uploads_of(wanted) if wanted else {}
    if context["can_download_originals"]:
        accepted_files = files.get(accepted.pk, {}) if accepted is not None else {}
        context.update(
            last_accepted=accepted,
            last_accepted_files=sorted(accepted_files.values(), key=lambda upload: upload.kind),
        )
    if submission is not None:
        context.update(_review_context(request, submission, versions=versions))
        uploads = files.get(submission.pk, {})
        summary = selectors.findings_summary(submission)
        participants = uploads.get("participants")
        context.update(
            uploads=uploads,
            # Files sent but never checked (the checks gave up, or never ran): "Check
            # again" (reporting.services.recovery.check_again), for those who may edit.
            can_check_again=bool(
                context["can_edit"]
                and submission.state == SubmissionState.DRAFT
                and participants is not None
                and participants.status == UploadStatus.RECEIVED
            ),
            check_gave_up_note=services.CHECK_FAILED_NOTE,
            summary=summary,
            totals=selectors.totals_of(summary),
            # The file-level failures are read only when the counts show there are some.
            failures=selectors.file_failures(submission)
            if any(row["code"] in rules.FILE_LEVEL for row in summary)
            else {},
            events=submission.events.select_related("actor").order_by("-at", "-id")[:50],
            # The page read the period's versions already (newest first); else the
            # conversation did (oldest first).
            versions=versions
            if versions is not None
            else list(reversed(context["versions"]))
            if "versions" in context
            else Submission.objects.visible_to(request.user)
            .filter(period=period)
            .order_by("-version"),
            narrative_form=forms.NarrativeForm(
                initial={
                    "progress": submission.narrative_progress,
                    "challenges": submission.narrative_challenges,
                    "ta_needs": submission.narrative_ta_needs,
                }
            ),
            steps=_steps(submission),
        )
        # Only a version that can be certified now has warnings to confirm, and only
        # those who certify or upload its files are asked to look at them.
        can_send = (
            submission.state == SubmissionState.READY
            and today >= context["certify_opens"]
            and (context["can_certify"] or context["can_edit"])
        )
        warnings = (
            certify_selectors.certify_warnings(
                submission,
                uploads=uploads,
                previous=(accepted, accepted_files) if context["can_download_originals"] else None,
            )
            if can_send
            else []
        )
        context.update(
            certify_warnings=warnings,
            certify_form=certify_form
            or forms.CertifyForm(
                initial={"name": request.user.full_name},
                late=bool(context["days_late"]),
                warnings=bool(warnings),
            ),
        )
    return context


def _steps(submission: Submission) -> dict[str, int]:
    """The numbers of the steps the page shows, counted in order: the findings and the
    preview appear only once the files have been checked, and the numbering must not
    jump over them."""
    checked = bool(submission.checked_at) and submission.state != SubmissionState.CHECKING
    shown = ["files", *(["findings", "preview"] if checked else []), "narrative", "certify"]
    return {name: number for number, name in enumerate(shown, start=1)}


def _review_context(
    request: AuthedRequest, submission: Submission, *, versions: list[Submission] | None = None
) -> dict:
    """JFF's side of the report, as the coalition sees it: the conversation on the
    latest sent version and its decision (why it was returned, or who accepted it).
    While a new draft is open after a return, that is the returned version's (taken from
    ``versions``, the period's versions the page has read, when given)."""
    reviewed: Submission | None = submission
    if submission.is_open and versions is not None:
        reviewed = next(
            (
                v
                for v in versions
                if v.pk == submission.previous_id and v.state == SubmissionState.RETURNED
            ),
            None,
        )
        if reviewed is not None:
            reviewed.period, reviewed.coalition = submission.period, submission.coalition
    elif submission.is_open:
        reviewed = (
            Submission.objects.visible_to(request.user)
            .filter(pk=submission.previous_id, state=SubmissionState.RETURNED)
            .select_related("reviewed_by", "accepted_by", "period", "coalition")
            .first()
            if submission.previous_id
            else None
        )
    if reviewed is None:
        return {}
    context = review.comments_context(request, reviewed)
    del context["submission"]  # The page is about the latest version; the threads are not.
    context.update(
        reviewed=reviewed,
        return_reasons=[ReturnReason(r).label for r in reviewed.return_reasons],
    )
    return context


@require_POST
def submission_start(request: AuthedRequest, coalition_code, quarter: str) -> HttpResponse:
    period = _period(request, coalition_code, quarter)
    # Refused by role first: the service hands back an open version to anyone who asks.
    if not permissions.can_start_report(request.user, period.coalition):
        raise PermissionDenied
    try:
        services.submission_start(period=period, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(
        "reporting:period-detail", coalition_code=coalition_code, quarter=period.quarter
    )


@require_POST
def upload(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _editable_submission(request, submission_code)
    form = forms.UploadForm(request.POST, request.FILES)
    if form.is_valid():
        # The sender is on the page as the checks start (check_notices: no e-mail while
        # they stay).
        check_notices.page_seen(submission, request.user)
        incoming = form.cleaned_data["file"]
        try:
            _, new = services.upload_receive(
                submission=submission,
                kind=form.cleaned_data["kind"],
                stream=incoming,
                name=incoming.name,
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if not new:
                messages.info(
                    request,
                    f"{incoming.name} is the same file as the one already uploaded "
                    "(same SHA-256); it was not stored again.",
                )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    if request.htmx:
        # The whole page changes (state, findings, history): reload it, with the
        # message, rather than patching parts of it.
        return HttpResponseClientRefresh()
    return redirect(_detail_url(submission.period))


@require_POST
def check_again(request: AuthedRequest, submission_code) -> HttpResponse:
    """Run the checks of the version's current files again (after they gave up)."""
    submission = _editable_submission(request, submission_code)
    try:
        services.submission_check_again(submission=submission, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        check_notices.page_seen(submission, request.user)
        messages.success(request, "Your files are being checked again.")
    return redirect(_detail_url(submission.period))


@security.passive  # polled while the page is open: not the person's activity
@never_cache
def submission_status(request: AuthedRequest, submission_code) -> HttpResponse:
    """Polled by htmx while the checks run; once they finish, the page reloads."""
    submission = _submission(request, submission_code)
    # Each poll says the person still has the page open (check_notices).
    check_notices.page_seen(submission, request.user)
    if submission.state == SubmissionState.CHECKING and request.htmx:
        return render(
            request, "reporting/period_detail.html#check_status", {"submission": submission}
        )
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(_detail_url(submission.period))


@require_POST
def narrative_save(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _editable_submission(request, submission_code)
    form = forms.NarrativeForm(request.POST)
    if form.is_valid():
        try:
            services.submission_save_narrative(
                submission=submission,
                actor=request.user,
                progress=form.cleaned_data["progress"],
                challenges=form.cleaned_data["challenges"],
                ta_needs=form.cleaned_data["ta_needs"],
            )
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            problem = ""
    else:
        problem = "Each section may have at most 10,000 characters."
    if request.htmx:
        # Saved as the person types: only the page's "Saved" line changes (a live region),
        # so the text being typed is left alone.
        context: dict[str, object] = (
            {"save_error": problem} if problem else {"saved_at": timezone.localtime()}
        )
        return render(request, "reporting/period_detail.html#narrative_saved", context)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, "Narrative saved.")
    return redirect(_detail_url(submission.period))


def _detail_url(period: ReportingPeriod) -> str:
    return reverse(
        "reporting:period-detail",
        kwargs={"coalition_code": period.coalition.code, "quarter": period.quarter},
    )


@require_POST
def certify(request: AuthedRequest, submission_code) -> HttpResponse:
    """Certify and submit, then show the receipt. Refused, the page comes back with what
    was typed (the late reason above all) and the message saying what is missing."""
    submission = _submission(request, submission_code)
    if not permissions.can_certify(request.user, submission.coalition):
        raise PermissionDenied
    form = forms.CertifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        try:
            services.submission_certify(
                submission=submission,
                actor=request.user,
                name=form.cleaned_data["name"],
                title=form.cleaned_data["title"],
                agreed=form.cleaned_data["agreed"],
                late_reason=form.cleaned_data["late_reason"],
                confirmed=form.cleaned_data["confirmed"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Version {submission.version} of the {submission.period.quarter} report was "
                "certified and submitted to JFF. It is now locked. Your receipt is below; "
                "a copy was e-mailed to you.",
            )
            return redirect("reporting:submission-receipt", submission_code=submission.code)
    if submission.state != SubmissionState.READY:
        return redirect(_detail_url(submission.period))
    period = submission.period
    today = timezone.localdate()
    warnings = certify_selectors.certify_warnings(submission)
    shown = forms.CertifyForm(
        request.POST,
        late=bool(certify_selectors.days_late(period, today)),
        warnings=bool(warnings),
    )
    context = _submission_context(request, period, submission, certify_form=shown)
    return render(request, "reporting/period_detail.html", context, status=400)


@never_cache
def submission_receipt(request: AuthedRequest, submission_code) -> HttpResponse:
    """The receipt of a certified version: its confirmation number and what was sent."""
    submission = _submission(request, submission_code)
    if not submission.certified_at:
        raise Http404
    return render(
        request,
        "reporting/receipt.html",
        {
            "submission": submission,
            "period": submission.period,
            "coalition": submission.coalition,
            "receipt": certify_selectors.receipt_for(submission),
        },
    )


@never_cache
def findings(request: AuthedRequest, submission_code) -> HttpResponse:
    """The findings, grouped by rule and column (the default), or every finding row by
    row (``view=rows``), both filtered by the same form."""
    submission = _submission(request, submission_code)
    # Every page of findings shows participant-level values, the htmx fragments that
    # filter and page through them included.
    services.audit_findings_viewed(
        actor=request.user,
        submission=submission,
        query=request.GET.urlencode(),
        htmx=bool(request.htmx),
    )
    form = forms.FindingFilterForm(request.GET or None)
    rows = selectors.findings_for(submission)
    if form.is_valid():
        rows = selectors.filter_findings(rows, form.cleaned_data)
    by_row = request.GET.get("view") == "rows"
    query = request.GET.copy()
    query.pop("page", None)
    filters = query.copy()
    filters.pop("view", None)
    context = {
        "submission": submission,
        "period": submission.period,
        "coalition": submission.coalition,
        "form": form,
        "by_row": by_row,
        # A file-level failure is its banner, not a tile (nor a group).
        "summary": [
            row
            for row in selectors.findings_summary(submission)
            if row["code"] not in rules.FILE_LEVEL
        ],
        "uploads": selectors.current_uploads(submission),
        "failures": selectors.file_failures(submission),
        "query_string": query.urlencode(),
        "filter_string": filters.urlencode(),
    }
    if by_row:
        context["page"] = Paginator(rows, 100).get_page(request.GET.get("page"))
    else:
        context["groups"] = selectors.finding_groups(submission, rows)
    template = "reporting/findings.html#results" if request.htmx else "reporting/findings.html"
    return render(request, template, context)


@never_cache
def findings_list(request: AuthedRequest, submission_code, rule: str) -> HttpResponse:
    """A mass rule's findings (H01: the participants missing since the last accepted
    report) as a CSV to work through. Participant IDs and what the rule found; never an
    SSN (stored findings are masked)."""
    submission = _submission(request, submission_code)
    if rule not in rules.MASS:
        raise Http404
    rows = selectors.mass_finding_rows(submission, rule)
    uploads = {row["finding"].upload_id for row in rows}
    for upload in Upload.objects.filter(pk__in=uploads):
        services.audit_pii_access(actor=request.user, upload=upload, what=f"{rule} list")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["participant_id", "entry_date_in_accepted_report", "accepted_report", "rule", "finding"]
    )
    for row in rows:
        entry = row["entry_date"]
        writer.writerow(
            spreadsheets.neutralise(str(cell))
            for cell in (
                row["participant_id"],
                entry.isoformat() if entry else "",
                row["accepted_report"],
                rules.label(rule),
                row["finding"].message,
            )
        )
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv")
    name = f"bpij-{submission.period.quarter}-v{submission.version}-{rule}-participants.csv"
    response["Content-Disposition"] = attachment(name)
    return response


def _upload(request: AuthedRequest, upload_code) -> Upload:
    return get_visible_or_404(
        Upload.objects.select_related("submission__period", "coalition"),
        request.user,
        code=upload_code,
    )


def _purged(request: AuthedRequest, upload: Upload) -> HttpResponse:
    """A file deleted under the retention rule is gone, not an error (410)."""
    context = {"upload": upload, "retention_days": settings.UPLOAD_RETENTION_DAYS}
    return render(request, "reporting/upload_purged.html", context, status=410)


@never_cache
def upload_original(request: AuthedRequest, upload_code) -> HttpResponseBase:
    """The file exactly as sent, full SSNs included: only for the coalition's people who
    send files (everyone else gets the annotated copy, where SSNs are masked)."""
    upload = _upload(request, upload_code)
    if not permissions.can_edit_submission(request.user, upload.submission):
        raise PermissionDenied
    if upload.purged_at:
        return _purged(request, upload)
    services.audit_pii_access(actor=request.user, upload=upload, what="original")
    return FileResponse(upload.file.open("rb"), as_attachment=True, filename=upload.original_name)


@never_cache
def upload_annotated(request: AuthedRequest, upload_code) -> HttpResponseBase:
    """The grantee's own file back as XLSX with an errors column and the bad cells marked:
    the workbook the checks stored when they finished, streamed."""
    upload = _upload(request, upload_code)
    if upload.purged_at:
        return _purged(request, upload)
    services.audit_pii_access(actor=request.user, upload=upload, what="annotated")
    stem = upload.original_name.rsplit(".", 1)[0]
    if upload.annotated_file:
        content = upload.annotated_file.open("rb")
    elif upload.status == UploadStatus.RECEIVED:
        # Its checks have not finished: the file as sent, unmarked and not stored (the
        # checks store the marked one when they finish).
        content = io.BytesIO(services.upload_annotation(upload=upload))
    else:
        # Checked before workbooks were stored, or the worker was lost after the commit.
        content = services.upload_annotate(upload=upload).annotated_file.open("rb")
    return FileResponse(
        content,
        as_attachment=True,
        filename=f"{stem}-with-errors.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@never_cache
def preview(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _submission(request, submission_code)
    if submission.state in (SubmissionState.DRAFT, SubmissionState.CHECKING):
        raise Http404
    figures = selectors.figures_for(submission)
    return render(
        request,
        "reporting/preview.html",
        {
            "submission": submission,
            "period": submission.period,
            "coalition": submission.coalition,
            "figures": figures,
            "rows": report_selectors.figure_rows(figures, period=submission.period),
        },
    )


@never_cache
def template_from_accepted(
    request: AuthedRequest, coalition_code, quarter: str, kind: str
) -> HttpResponse:
    """The template holding the rows of the coalition's last accepted report before this
    quarter, SSNs masked: the start of this quarter's cumulative file. For the people who
    send files (the workbook holds participant-level data)."""
    period = _period(request, coalition_code, quarter)
    if kind not in ("participants", "placements"):
        raise Http404
    if not permissions.can_download_originals(request.user, period.coalition):
        raise PermissionDenied
    try:
        accepted, workbook = services.start_from_workbook(
            period=period, kind=kind, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_detail_url(period))
    response = HttpResponse(
        workbook,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = attachment(
        f"bpij-{kind}-{period.quarter}-from-{accepted.period.quarter}.xlsx"
    )
    return response


def template_download(request: AuthedRequest, kind: str, fmt: str) -> HttpResponse:
    """A blank participant or placement file, generated from the data contract."""
    if kind not in ("participants", "placements") or fmt not in ("xlsx", "csv"):
        raise Http404
    if fmt == "csv":
        response = HttpResponse(spreadsheets.csv_template(kind), content_type="text/csv")
    else:
        response = HttpResponse(
            spreadsheets.xlsx_template(kind),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = attachment(f"bpij-{kind}-template.{fmt}")
    return response
