"""Exports pages: a coalition's exports and the program-wide ones, asking for an export,
the status row htmx polls while it renders, and the download of the stored file."""

from collections.abc import Iterable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bpij import security
from bpij.http import AuthedRequest
from bpij.tenancy import get_visible_or_404
from grantees.models import Coalition
from reporting import figures, permissions
from reporting.models import Export, ExportKind, ExportStatus, SubmissionState
from reporting.selectors import exports as export_selectors
from reporting.services import exports as services
from reporting.services import recovery

PAGE_SIZE = 25


def _coalition(request: AuthedRequest, code) -> Coalition:
    return get_visible_or_404(Coalition.objects, request.user, code=code)


def _require_program_exports(request: AuthedRequest) -> None:
    # Coaches and coalition members have no program-wide exports: the page is not one
    # coalition's object, so it is a 403 rather than a 404.
    if not export_selectors.kinds_for(request.user, coalition=None):
        raise PermissionDenied


def _made_from(export: Export) -> str:
    """Which versions the file was made from, in a few words for the table."""
    used = export.provenance.get("submissions", [])
    this = [s for s in used if s["quarter"] == export.quarter]
    if export.coalition_id is None:
        accepted = sum(1 for s in this if s["state"] == SubmissionState.ACCEPTED)
        text = f"{len(this)} coalitions' reports ({accepted} accepted)"
    else:
        states = dict(SubmissionState.choices)
        text = ", ".join(
            f"version {s['version']} ({states.get(s['state'], s['state']).lower()})" for s in this
        )
    earlier = len(used) - len(this)
    if earlier:
        text += f", and {earlier} report{'s' if earlier != 1 else ''} of earlier quarters"
    return text[:1].upper() + text[1:]


def _shown(request: AuthedRequest, exports: Iterable[Export]) -> list[Export]:
    shown = [e for e in exports if permissions.can_download(request.user, e)]
    for export in shown:
        export.made_from = _made_from(export)  # type: ignore[attr-defined]
    return shown


def _page(request: AuthedRequest, exports: QuerySet[Export], kinds: list[tuple[str, str]]) -> Page:
    # Only the kinds the person may take are listed (a coalition's members see its
    # reports, not JFF's data packs), filtered in the database so pages stay full.
    exports = exports.filter(kind__in=[value for value, _ in kinds])
    paginator = Paginator(exports.select_related("requested_by", "coalition"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _shown(request, page.object_list)
    return page


def _list_context(request: AuthedRequest, coalition: Coalition | None) -> dict:
    kinds = export_selectors.kinds_for(request.user, coalition=coalition)
    exports = Export.objects.visible_to(request.user)
    exports = exports.filter(coalition=coalition) if coalition else exports.filter(coalition=None)
    quarters = export_selectors.exportable_quarters(request.user, coalition=coalition)
    asked = request.GET.get("quarter", "").strip().upper()
    return {
        "coalition": coalition,
        "kinds": kinds,
        "quarters": quarters,
        # A link may name the quarter to export (the coalition dashboard's): it is chosen
        # in the form when offered, and the page says so when it is not.
        "asked_quarter": asked,
        "asked_unavailable": bool(asked) and asked not in quarters,
        "page": _page(request, exports, kinds),
        # Earlier files stay as they were made: the table says under which definitions.
        "definitions": sorted(figures.DEFINITIONS_TEXT.items()),
        "request_url": (
            reverse("reporting:export-request", args=[coalition.code])
            if coalition
            else reverse("reporting:program-export-request")
        ),
    }


@require_GET
@never_cache
def export_list(request: AuthedRequest, coalition_code) -> HttpResponse:
    """A coalition's exports, newest first, and the form to ask for one."""
    coalition = _coalition(request, coalition_code)
    return render(request, "reporting/export_list.html", _list_context(request, coalition))


@require_GET
@never_cache
def program_exports(request: AuthedRequest) -> HttpResponse:
    """The program-wide summary and data packs, for program-wide staff."""
    _require_program_exports(request)
    return render(request, "reporting/export_list.html", _list_context(request, None))


def _ask(request: AuthedRequest, coalition: Coalition | None, back: str) -> HttpResponse:
    kind = request.POST.get("kind", "")
    quarter = request.POST.get("quarter", "")
    try:
        export = services.export_request(
            actor=request.user, kind=kind, quarter=quarter, coalition=coalition
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    what = f"{ExportKind(export.kind).label} for {export.quarter}"
    if export.status == ExportStatus.READY:
        messages.success(
            request, f"{what}: already made from the same figures, ready to download below."
        )
    else:
        messages.info(request, f"{what}: being prepared; its row below says when it is ready.")
    return redirect(f"{back}#export-{export.code}")


@require_POST
def export_request(request: AuthedRequest, coalition_code) -> HttpResponse:
    coalition = _coalition(request, coalition_code)
    return _ask(request, coalition, reverse("reporting:export-list", args=[coalition.code]))


@require_POST
def program_export_request(request: AuthedRequest) -> HttpResponse:
    _require_program_exports(request)
    return _ask(request, None, reverse("reporting:program-exports"))


def _export(request: AuthedRequest, code) -> Export:
    export = get_visible_or_404(
        Export.objects.select_related("coalition", "requested_by"), request.user, code=code
    )
    if not permissions.can_download(request.user, export):
        raise PermissionDenied
    return export


@security.passive  # polled while the page is open: not the person's activity
@require_GET
@never_cache
def export_status(request: AuthedRequest, export_code) -> HttpResponse:
    """The export's row, polled by htmx every 2 s until it is ready or has failed; the
    polite announcement for screen readers goes out of band into the page's live
    region. A render whose worker died (its heartbeat stopped) is sent again, or
    failed with the reason, here as the sweeper would: the person waiting sees it
    within EXPORT_HEARTBEAT_STALE seconds, not at the next sweep."""
    export = _export(request, export_code)
    if recovery.export_dead(export, timezone.now()):
        recovery.export_recover(export.pk, started_at=export.started_at)
        export = _export(request, export_code)
    if not request.htmx:
        back = (
            reverse("reporting:export-list", args=[export.coalition.code])
            if export.coalition
            else reverse("reporting:program-exports")
        )
        return redirect(f"{back}#export-{export.code}")
    return render(
        request,
        "reporting/export_list.html#export_row",
        {
            "export": _shown(request, [export])[0],
            "announce": export.status in (ExportStatus.READY, ExportStatus.FAILED),
        },
    )


@require_GET
@never_cache
def export_download(request: AuthedRequest, export_code) -> FileResponse:
    """The stored file exactly as rendered (its SHA-256 is on the exports page)."""
    export = _export(request, export_code)
    if export.status != ExportStatus.READY or not export.file:
        raise Http404("This export is not ready yet.")
    services.export_downloaded(export=export, actor=request.user)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=services.CONTENT_TYPES[ExportKind(export.kind)],
    )
