"""One coalition's coaching record: sessions, action items and risk flags."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bpij.http import AuthedRequest
from bpij.models import StaffRole
from bpij.tenancy import get_editable_or_404, get_visible_or_404
from coaching import forms, permissions, selectors, services
from coaching.models import ActionItem, CoachingSession, RiskFlag
from grantees.models import Coalition


def _coalition(request: AuthedRequest, code) -> Coalition:
    coalition = get_visible_or_404(Coalition.objects, request.user, code=code)
    # The Federal Project Officer sees coalitions for their aggregates only; a coaching
    # record is notes about people, so it is not theirs to read.
    if request.user.staff_role == StaffRole.FUNDER_VIEWER:
        raise PermissionDenied
    return coalition


def _coached_coalition(request: AuthedRequest, code) -> Coalition:
    return get_editable_or_404(Coalition.objects, request.user, permissions.can_coach, code=code)


def _session(request: AuthedRequest, code) -> CoachingSession:
    # Staff-only sessions do not exist for a coalition member: 404, like another tenant's.
    sessions = CoachingSession.objects.shared_or_staff(request.user).select_related(
        "coalition", "created_by"
    )
    return get_visible_or_404(sessions, request.user, code=code)


def _form_errors(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def coalition_coaching(request: AuthedRequest, coalition_code) -> HttpResponse:
    """Every session with its action items, the risk flag and its history; staff log a
    session and set the flag here."""
    coalition = _coalition(request, coalition_code)
    return _coalition_page(request, coalition)


def _coalition_page(
    request: AuthedRequest, coalition: Coalition, *, risk_form=None, status: int = 200
) -> HttpResponse:
    # The page lists every session itself, so of the dashboard summary it needs only the
    # risk flags (all of them: the page is where the whole history is read).
    flags = selectors.risk_flags(coalition=coalition, user=request.user)
    summary = selectors.CoalitionCoaching(
        coalition=coalition,
        risk=flags[0] if flags else None,
        risk_history=flags,
        sessions=[],
        open_items=[],
        is_staff=request.user.is_jff_staff,
        today=timezone.localdate(),
    )
    sessions = selectors.sessions_with_items(coalition=coalition, user=request.user)
    loose_items = selectors.items_without_session(coalition=coalition, user=request.user)
    can_coach = permissions.can_coach(request.user, coalition)
    return render(
        request,
        "coaching/coalition_coaching.html",
        {
            "coalition": coalition,
            "coaching": summary,
            "sessions": sessions,
            "loose_items": loose_items,
            "can_coach": can_coach,
            "risk_form": risk_form
            or forms.RiskFlagForm(initial={"level": flags[0].level} if flags else None),
            "today": timezone.localdate(),
        },
        status=status,
    )


def session_log(request: AuthedRequest, coalition_code) -> HttpResponse:
    """Log a session and the action items agreed in it, in one form."""
    coalition = _coached_coalition(request, coalition_code)
    choices = forms.ItemChoices.for_coalition(coalition)
    if request.method == "POST":
        form = forms.SessionForm(request.POST)
        items = forms.ItemFormSet(request.POST, form_kwargs={"choices": choices}, prefix="items")
        if form.is_valid() and items.is_valid():
            try:
                session = services.session_log(
                    coalition=coalition,
                    actor=request.user,
                    items=[f.to_input() for f in items.forms if f.has_changed()],
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"Session of {session.held_on:%b %-d, %Y} logged.")
                return redirect("coaching:session-detail", session.code)
        status = 400
    else:
        form = forms.SessionForm(initial={"held_on": timezone.localdate().isoformat()})
        items = forms.ItemFormSet(form_kwargs={"choices": choices}, prefix="items")
        status = 200
    return render(
        request,
        "coaching/session_form.html",
        {"coalition": coalition, "form": form, "items": items, "session": None},
        status=status,
    )


def session_detail(request: AuthedRequest, session_code) -> HttpResponse:
    session = _session(request, session_code)
    items = list(
        selectors.visible_items(request.user).filter(session=session).select_related("finding")
    )
    return render(
        request,
        "coaching/session_detail.html",
        {
            "session": session,
            "coalition": session.coalition,
            "items": items,
            "can_coach": permissions.can_coach(request.user, session.coalition),
            "today": timezone.localdate(),
        },
    )


def session_edit(request: AuthedRequest, session_code) -> HttpResponse:
    """Change a session's record; its action items are changed one by one."""
    session = _session(request, session_code)
    if not permissions.can_coach(request.user, session.coalition):
        raise PermissionDenied
    if request.method == "POST":
        form = forms.SessionForm(request.POST)
        if form.is_valid():
            try:
                services.session_update(session=session, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "Session updated.")
                return redirect("coaching:session-detail", session.code)
        status = 400
    else:
        initial = {name: getattr(session, name) for name in services.SESSION_FIELDS}
        # A date input wants ISO dates, not the localized text a template would print.
        form = forms.SessionForm(initial=initial | {"held_on": session.held_on.isoformat()})
        status = 200
    return render(
        request,
        "coaching/session_form.html",
        {"coalition": session.coalition, "form": form, "items": None, "session": session},
        status=status,
    )


def item_add(request: AuthedRequest, session_code) -> HttpResponse:
    """Add one action item to an existing session."""
    session = _session(request, session_code)
    if not permissions.can_coach(request.user, session.coalition):
        raise PermissionDenied
    choices = forms.ItemChoices.for_coalition(session.coalition)
    form = forms.ItemForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_item_create(
                coalition=session.coalition,
                session=session,
                item=form.to_input(),
                actor=request.user,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Action item added.")
            return redirect("coaching:session-detail", session.code)
    return render(
        request,
        "coaching/item_form.html",
        {"coalition": session.coalition, "session": session, "form": form, "item": None},
        status=400 if request.method == "POST" else 200,
    )


def item_edit(request: AuthedRequest, item_code) -> HttpResponse:
    item = get_visible_or_404(
        selectors.visible_items(request.user).select_related("session"),
        request.user,
        code=item_code,
    )
    if not permissions.can_coach(request.user, item.coalition):
        raise PermissionDenied
    choices = forms.ItemChoices.for_coalition(item.coalition)
    if request.method == "POST":
        form = forms.ItemForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                services.action_item_update(item=item, actor=request.user, **vars(form.to_input()))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "Action item updated.")
                return redirect(_item_home(item))
    else:
        owner = str(item.owner.uuid) if item.owner else ""
        form = forms.ItemForm(
            initial={
                "title": item.title,
                "owner": owner,
                "owner_name": item.owner_name,
                "due_on": item.due_on.isoformat(),
                "target": str(item.target_id or ""),
                "finding": str(item.finding_id or ""),
                "shared": item.shared,
            },
            choices=choices,
        )
    return render(
        request,
        "coaching/item_form.html",
        {"coalition": item.coalition, "session": item.session, "form": form, "item": item},
        status=400 if request.method == "POST" else 200,
    )


def _item_home(item: ActionItem) -> str:
    if item.session_id:
        return reverse("coaching:session-detail", args=[item.session.code])  # type: ignore[union-attr]
    return reverse("coaching:coalition", args=[item.coalition.code])


@require_POST
def item_status(request: AuthedRequest, item_code) -> HttpResponse:
    """Mark an action item done, dropped or open again; htmx swaps the one row."""
    item = get_visible_or_404(
        selectors.visible_items(request.user).select_related("session"),
        request.user,
        code=item_code,
    )
    # Who may close it is decided before what they sent is read: a member who does not
    # own the item gets a 403, not a complaint about the form.
    if not permissions.can_close_item(request.user, item):
        raise PermissionDenied
    form = forms.ItemStatusForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            "Choose a status: open, done or dropped.", status=400, content_type="text/plain"
        )
    services.action_item_set_status(
        item=item, status=form.cleaned_data["status"], actor=request.user
    )
    if request.htmx:
        return render(
            request,
            "coaching/_item_row.html",
            {
                "item": item,
                "can_coach": permissions.can_coach(request.user, item.coalition),
                "today": timezone.localdate(),
                "user": request.user,
            },
        )
    messages.success(request, f"“{item.title}” is now {item.get_status_display().lower()}.")
    return redirect(_item_home(item))


@require_POST
def risk_set(request: AuthedRequest, coalition_code) -> HttpResponse:
    coalition = _coached_coalition(request, coalition_code)
    form = forms.RiskFlagForm(request.POST)
    if form.is_valid():
        try:
            flag: RiskFlag = services.risk_flag_set(
                coalition=coalition, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"{coalition} flagged “{flag.get_level_display()}”.")
            return redirect("coaching:coalition", coalition.code)
    return _coalition_page(request, coalition, risk_form=form, status=400)
