"""JFF's review pages: the queue of versions waiting for review, one version's review
page, and the changes made from it (start, comment, return, accept). Comments are also
posted from the grantee's period page, where the coalition replies."""

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from bpij.http import AuthedRequest
from bpij.tenancy import get_visible_or_404
from reporting import figures, forms, permissions, selectors, services
from reporting.models import (
    SENT_STATES,
    ReturnReason,
    Rollup,
    Submission,
    SubmissionComment,
    SubmissionState,
)
from reporting.selectors import reports as report_selectors
from reporting.selectors import review as review_selectors


def _submission(request: AuthedRequest, code) -> Submission:
    return get_visible_or_404(
        Submission.objects.select_related(
            "period__rollup",
            "period__coalition",
            "period__grant",
            "coalition",
            "certified_by",
            "reviewed_by",
            "accepted_by",
        ),
        request.user,
        code=code,
    )


def _reviewable(request: AuthedRequest, code) -> Submission:
    """A sent version the user reviews: another coalition's is a 404, a grantee's or an
    unassigned person's a 403, a version not sent yet a 404 (there is nothing to review)."""
    submission = _submission(request, code)
    if not permissions.can_review(request.user, submission):
        raise PermissionDenied
    if submission.is_open:
        raise Http404
    return submission


def _review_url(submission: Submission, anchor: str = "") -> str:
    url = reverse("reporting:submission-review", args=[submission.code])
    return f"{url}#{anchor}" if anchor else url


def _period_url(submission: Submission, anchor: str = "") -> str:
    url = reverse(
        "reporting:period-detail",
        kwargs={"coalition_code": submission.coalition.code, "quarter": submission.period.quarter},
    )
    return f"{url}#{anchor}" if anchor else url


@require_safe
@never_cache
def review_queue(request: AuthedRequest) -> HttpResponse:
    """Versions waiting for JFF, oldest first: a coach sees their coalitions', a program
    officer everyone's."""
    user = request.user
    if not permissions.can_see_review_queue(user):
        raise PermissionDenied
    state = request.GET.get("state", "")
    rows = review_selectors.review_queue(user, today=timezone.localdate(), state=state)
    return render(
        request,
        "reporting/review_queue.html",
        {
            "rows": rows,
            "state": state if state in review_selectors.QUEUE_STATES else "",
            "states": [(s.value, s.label) for s in review_selectors.QUEUE_STATES],
        },
    )


def _rollup(submission: Submission) -> Rollup | None:
    try:
        return submission.period.rollup  # joined by _submission(): no query of its own
    except Rollup.DoesNotExist:
        return None


# A sent version's figures do not change (its records are locked), so when no roll-up holds
# them they are computed once and kept in the cache, not on every view of the page.
FIGURES_CACHED_FOR = 7 * 24 * 3600


def version_figures(submission: Submission, rollup: Rollup | None = None) -> dict:
    """The figures of a version: the roll-up's when it was computed from this version,
    else the cache's, else computed from its records (and cached when it was sent)."""
    if rollup is not None and rollup.submission_id == submission.pk and rollup.figures:
        return rollup.figures if "windows" in rollup.figures else {"windows": rollup.figures}
    if submission.state not in SENT_STATES:
        return selectors.figures_for(submission)
    checked = submission.checked_at.timestamp() if submission.checked_at else 0
    # The definitions are in the key: figures cached under the previous ones never show.
    key = f"reporting:version-figures:{figures.DEFINITIONS}:{submission.code}:{checked}"
    result = cache.get(key)
    if result is None:
        result = selectors.figures_for(submission)
        cache.set(key, result, FIGURES_CACHED_FOR)
    return result


def comments_context(
    request: AuthedRequest,
    submission: Submission,
    *,
    form: forms.CommentForm | None = None,
    versions: list[Submission] | None = None,
) -> dict:
    """What the conversation needs, on the review page and on the grantee's page: every
    version of the period with its sending, threads, replies and decision, in time order
    (review_selectors.period_conversation). A reviewer also gets the form for a new thread
    on ``submission``, with the findings it may pin."""
    user = request.user
    reviewer = permissions.can_review(user, submission)
    replier = permissions.can_reply(user, submission)
    if versions is None:
        versions = review_selectors.period_versions(submission, user)
    conversation = review_selectors.period_conversation(
        versions, can_reply=replier, can_review=reviewer
    )
    initial = {
        "figure_key": request.GET.get("figure", ""),
        "figure_window": request.GET.get("window", ""),
        "finding": request.GET.get("finding", ""),
    }
    return {
        "submission": submission,
        "commented": submission,
        "versions": versions,
        "conversation": conversation,
        "threads": [e.thread for e in conversation if e.thread is not None],
        "can_comment": permissions.can_comment(user, submission),
        "is_reviewer": reviewer,
        "can_start_thread": reviewer and submission.state in SENT_STATES,
        "warnings": review_selectors.review_warnings(submission) if reviewer else [],
        "comment_form": form or forms.CommentForm(initial=initial),
        "pinned_request": any(initial.values()),
    }


@require_safe
@never_cache
def submission_review(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _reviewable(request, submission_code)
    return _render_review(request, submission)


CONFIRMED = "yes"


def decision_text(submission: Submission) -> dict[str, dict[str, str]]:
    """What Accept and Return will do and who is told, in the words the confirmation
    (the modal on the review page, and the confirm page without JavaScript) shows."""
    coalition = submission.coalition.name
    version = submission.version
    quarter = submission.period.quarter
    return {
        "accept": {
            "question": f"Accept version {version} of {coalition}'s {quarter} report?",
            "what": (
                f"Version {version} becomes the coalition's report of record for {quarter}: "
                "its figures count as accepted on the program dashboard, in the exports and "
                "in the summaries made for DOL. An accepted version cannot be returned."
            ),
            "who": (
                "No e-mail is sent; the coalition sees the acceptance on its report page, "
                "and the version's history records who accepted it."
            ),
            "button": f"Yes, accept version {version}",
        },
        "return": {
            "question": f"Return version {version} to {coalition}?",
            "what": (
                f"Version {version} stays as it was sent, and the coalition may start "
                f"version {version + 1} from it, with its files and narrative."
            ),
            "who": (
                "Its administrators and reporters are e-mailed the reasons and your note; "
                "JFF's program officers (other than you) are e-mailed that it was returned, with "
                "the reasons."
            ),
            "button": f"Yes, return version {version}",
        },
    }


def _unconfirmed(request: AuthedRequest, submission: Submission) -> bool:
    """A decision that could be made but was not confirmed (a version already decided
    goes straight to the service, which says why nothing can be done)."""
    decidable = submission.state in (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW)
    return decidable and request.POST.get("confirmed") != CONFIRMED


def _confirm(
    request: AuthedRequest, submission: Submission, decision: str, *, form=None
) -> HttpResponse:
    """A decision posted without ``confirmed`` (no JavaScript, so no modal) is not made:
    the person gets a page saying what will happen and who will be told, with the same
    form to post again, confirmed."""
    context = {
        "submission": submission,
        "coalition": submission.coalition,
        "period": submission.period,
        "decision": decision,
        "text": decision_text(submission)[decision],
        "return_form": form,
        "return_reasons": (
            [ReturnReason(r).label for r in form.cleaned_data["reasons"]] if form else []
        ),
    }
    return render(request, "reporting/decision_confirm.html", context)


def _render_review(
    request: AuthedRequest,
    submission: Submission,
    *,
    return_form: forms.ReturnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context = comments_context(request, submission)
    # The figure column counts this version's threads; earlier versions' are in the history.
    threads = [t for t in context["threads"] if t.first.submission_id == submission.pk]
    pins = review_selectors.pins_by_figure(threads)
    rollup = _rollup(submission)
    figures_now = version_figures(submission, rollup)
    rows = report_selectors.figure_rows(figures_now, period=submission.period)
    previous = review_selectors.previous_version(submission, context["versions"])
    changes = None
    if previous is not None:
        changes = review_selectors.version_changes(
            previous,
            submission,
            figures_before=version_figures(previous, rollup),
            figures_after=figures_now,
        )
    for row in rows:
        row["comments"] = pins.get(row["key"], 0)
    reviewable = submission.state in (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW)
    days_after_due = review_selectors.days_after_due(submission) or 0
    context.update(
        period=submission.period,
        coalition=submission.coalition,
        days_after_due=days_after_due,
        days_early=-days_after_due,
        rows=rows,
        changes=changes,
        summary=selectors.findings_summary(submission),
        events=submission.events.select_related("actor").order_by("-at", "-id")[:100],
        can_start=submission.state == SubmissionState.SUBMITTED,
        can_return=reviewable,
        can_accept=reviewable and permissions.can_accept(user, submission),
        return_form=return_form or forms.ReturnForm(),
        return_reasons=[ReturnReason(r).label for r in submission.return_reasons],
        decision_text=decision_text(submission),
    )
    return render(request, "reporting/submission_review.html", context, status=status)


@require_POST
def review_start(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _reviewable(request, submission_code)
    try:
        services.submission_review_start(submission=submission, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You started the review of version {submission.version}.")
    return redirect(_review_url(submission))


@require_POST
def submission_return(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _reviewable(request, submission_code)
    form = forms.ReturnForm(request.POST)
    if form.is_valid() and request.POST.get("confirmed") == "edit":
        # Back from the confirm page: the review page with what they wrote, to change it.
        return _render_review(request, submission, return_form=form)
    if form.is_valid() and _unconfirmed(request, submission):
        return _confirm(request, submission, "return", form=form)
    if form.is_valid():
        try:
            services.submission_return(
                submission=submission,
                actor=request.user,
                reasons=form.cleaned_data["reasons"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Version {submission.version} was returned to {submission.coalition.name}; "
                "its administrators and reporters are being e-mailed the reasons.",
            )
            return redirect(_review_url(submission))
    return _render_review(request, submission, return_form=form, status=400)


@require_POST
def submission_accept(request: AuthedRequest, submission_code) -> HttpResponse:
    submission = _reviewable(request, submission_code)
    if not permissions.can_accept(request.user, submission):
        raise PermissionDenied
    if _unconfirmed(request, submission):
        return _confirm(request, submission, "accept")
    try:
        services.submission_accept(submission=submission, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Version {submission.version} of {submission.coalition.name}'s "
            f"{submission.period.quarter} report is accepted.",
        )
    return redirect(_review_url(submission))


@require_POST
def comment_post(request: AuthedRequest, submission_code) -> HttpResponse:
    """A new thread (reviewers) or a reply (reviewers and the coalition's administrators
    and reporters), from the review page or the grantee's period page. htmx gets the
    threads back; without JavaScript the page reloads at the thread."""
    submission = _submission(request, submission_code)
    if not permissions.can_comment(request.user, submission):
        raise PermissionDenied
    form = forms.CommentForm(request.POST)
    error = ""
    comment = None
    if form.is_valid():
        data = form.cleaned_data
        parent = None
        if data["parent"]:
            parent = (
                SubmissionComment.objects.visible_to(request.user)
                .filter(submission=submission, code=data["parent"])
                .first()
            )
            if parent is None:
                raise Http404
        try:
            comment = services.submission_comment(
                submission=submission,
                actor=request.user,
                body=data["body"],
                parent=parent,
                figure_key=data["figure_key"],
                figure_window=data["figure_window"],
                finding_key=data["finding"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    # A reply to an earlier version's thread is posted from a later version's page: the
    # answer (and the redirect) is that page's, the version it names in ``viewing``.
    page = _viewing(request, submission)
    if request.htmx:
        page.refresh_from_db(fields=["state"])
        # A failed post keeps what was typed; a successful one gets an empty form.
        reply = bool(request.POST.get("parent"))
        context = comments_context(request, page, form=form if error and not reply else None)
        context["comment_error"] = error
        context["posted"] = comment
        return render(request, "reporting/submission_review.html#comments", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Comment posted.")
    anchor = f"thread-{(comment.parent or comment).code}" if comment else "comments"
    if permissions.can_review(request.user, page) and not page.is_open:
        return redirect(_review_url(page, anchor))
    return redirect(_period_url(page, anchor))


def _viewing(request: AuthedRequest, submission: Submission) -> Submission:
    """The version whose page the post came from: another version of the same period the
    user may see, else the one commented on."""
    code = request.POST.get("viewing", "")
    if not code or code == str(submission.code):
        return submission
    try:
        page = _submission(request, code)
    except (Http404, ValidationError):
        return submission
    return page if page.period_id == submission.period_id else submission
