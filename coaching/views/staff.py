"""JFF staff pages across coalitions: the coaching overview and coach assignments."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bpij.http import AuthedRequest
from bpij.models import StaffRole, User
from bpij.tenancy import get_visible_or_404
from coaching import forms, selectors
from grantees import selectors as grantee_selectors
from grantees import services as grantee_services
from grantees.models import Coalition

ASSIGNERS = (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)


def overview(request: AuthedRequest) -> HttpResponse:
    """Every coalition the staff member sees with its risk, action items, last session,
    coaches and current report, at-risk first: where a program officer finds who needs
    help."""
    if not request.user.is_jff_staff:
        raise PermissionDenied
    today = timezone.localdate()
    rows = selectors.coaching_rows(request.user, today=today)
    coaches = sorted({c for row in rows for c in row.coaches}, key=lambda c: c.display_name)
    form = forms.OverviewFilterForm(request.GET or None, coaches=coaches)
    filters = form.cleaned_data if form.is_valid() else {}
    shown = selectors.filter_rows(rows, filters)
    context = {
        "rows": shown,
        "form": form,
        "today": today,
        "total": len(rows),
        "high": sum(1 for r in rows if r.risk_rank == 0),
        "medium": sum(1 for r in rows if r.risk_rank == 1),
        "overdue_items": sum(r.overdue_items for r in rows),
        "overdue_reports": sum(1 for r in rows if r.report and r.report.overdue),
    }
    template = "coaching/overview.html#results" if request.htmx else "coaching/overview.html"
    return render(request, template, context)


def _require_assigner(user: User) -> None:
    if user.staff_role not in ASSIGNERS:
        raise PermissionDenied


def _coaches() -> list[User]:
    return list(User.objects.filter(staff_role=StaffRole.COACH, is_active=True).order_by("email"))


def assignments(request: AuthedRequest) -> HttpResponse:
    """Coalitions with their coaches; program officers assign and unassign here."""
    _require_assigner(request.user)
    rows = grantee_selectors.coalition_rows(request.user, today=timezone.localdate())
    coaches = _coaches()
    load = {c.pk: 0 for c in coaches}
    for row in rows:
        for coach in row.coaches:
            load[coach.pk] = load.get(coach.pk, 0) + 1
    return render(
        request,
        "coaching/assignments.html",
        {
            "rows": rows,
            "coaches": [(c, load.get(c.pk, 0)) for c in coaches],
            "form": forms.AssignForm(coaches=coaches),
        },
    )


@require_POST
def assign(request: AuthedRequest, coalition_code) -> HttpResponse:
    # Another coalition's is a 404 before the role is looked at, as everywhere.
    coalition = get_visible_or_404(Coalition.objects, request.user, code=coalition_code)
    _require_assigner(request.user)
    form = forms.AssignForm(request.POST, coaches=_coaches())
    if not form.is_valid():
        messages.error(request, f"Choose one of the listed coaches to assign to {coalition}.")
        return redirect("coaching:assignments")
    coach = form.cleaned_data["coach"]
    try:
        grantee_services.coach_assign(coalition=coalition, coach=coach, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{coach.display_name} now coaches {coalition}.")
    return redirect("coaching:assignments")


@require_POST
def unassign(request: AuthedRequest, coalition_code, coach_code) -> HttpResponse:
    coalition = get_visible_or_404(Coalition.objects, request.user, code=coalition_code)
    _require_assigner(request.user)
    coach = User.objects.filter(uuid=coach_code, staff_role=StaffRole.COACH).first()
    if coach is None:
        messages.error(request, "That coach no longer exists; the page has been refreshed.")
        return redirect("coaching:assignments")
    grantee_services.coach_unassign(coalition=coalition, coach=coach, actor=request.user)
    messages.success(request, f"{coach.display_name} no longer coaches {coalition}.")
    return redirect("coaching:assignments")
