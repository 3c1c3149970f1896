from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bpij import tenancy
from bpij.http import AuthedRequest, PublicRequest
from bpij.models import StaffRole, User
from bpij.tenancy import get_editable_or_404, get_visible_or_404, unrestricted
from grantees import forms, permissions, selectors, services
from grantees.models import (
    MEMBER_ROLE_HELP,
    CoachAssignment,
    Coalition,
    Grant,
    Invitation,
    Membership,
    Target,
)


def coalition_list(request: AuthedRequest) -> HttpResponse:
    """Program officers' and admins' home: every coalition, searchable and filterable."""
    form = forms.CoalitionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else None
    today = timezone.localdate()
    rows = selectors.coalition_rows(request.user, today=today, filters=filters)
    context = {
        "form": form,
        "rows": rows,
        "total_amount": selectors.total_amount(rows),
        "today": today,
        "is_filtered": bool(filters and any(filters.values())),
    }
    template = "grantees/coalition_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def coalition_detail(request: AuthedRequest, coalition_code) -> HttpResponse:
    coalition = get_visible_or_404(Coalition.objects, request.user, code=coalition_code)
    grants = list(Grant.objects.filter(coalition=coalition).order_by("start_date"))
    targets = list(
        Target.objects.filter(coalition=coalition).select_related("grant").order_by("measure")
    )
    # The Federal Project Officer reads no table about people (assignments, reports): the
    # page leaves out what would otherwise read as "none".
    reads_people = tenancy.scope_for(request.user).sees_some_rows(aggregate=False)
    coaches = (
        [
            a.coach
            for a in CoachAssignment.objects.visible_to(request.user)
            .filter(coalition=coalition)
            .select_related("coach")
        ]
        if reads_people
        else None
    )
    today = timezone.localdate()
    grant = grants[0] if grants else None
    next_report = grant.next_report(today) if grant else None
    context = {
        # The to-do list of reports and the actuals beside the targets (issue 11).
        **selectors.coalition_page_extras(
            user=request.user, coalition=coalition, today=today, targets=targets
        ),
        "coalition": coalition,
        "grant": grant,
        "grants": grants,
        "targets": targets,
        "coaches": coaches,
        "next_report": next_report,
        "days_to_due": (next_report.due - today).days if next_report else None,
        "elapsed_percent": round(grant.elapsed_share(today) * 100) if grant else None,
        "role": coalition.role_of(request.user),
        "can_see_members": permissions.can_see_members(request.user, coalition),
        "member_count": Membership.objects.visible_to(request.user)
        .filter(coalition=coalition)
        .count(),
        # grantees does not import reporting; the URL is resolved by name.
        "reports_url": reverse("reporting:period-list", args=[coalition.code])
        if reads_people
        else None,
    }
    return render(request, "grantees/coalition_detail.html", context)


def member_list(request: AuthedRequest, coalition_code) -> HttpResponse:
    coalition = get_visible_or_404(Coalition.objects, request.user, code=coalition_code)
    if not permissions.can_see_members(request.user, coalition):
        raise PermissionDenied
    return _render_members(request, coalition, forms.MemberInviteForm())


def _render_members(request: AuthedRequest, coalition, invite_form, status=200) -> HttpResponse:
    members = Membership.objects.filter(coalition=coalition).select_related("user")
    invitations = (
        Invitation.objects.filter(coalition=coalition)
        .pending()
        .select_related("invited_by")
        .order_by("-created_at")
    )
    context = {
        "coalition": coalition,
        "members": members,
        "invitations": invitations,
        "invite_form": invite_form,
        "can_manage": permissions.can_manage_members(request.user, coalition),
        "role_form": forms.MemberRoleForm(),
        "role_help": MEMBER_ROLE_HELP,
    }
    return render(request, "grantees/member_list.html", context, status=status)


def _tell_sent(request: AuthedRequest, invitation: Invitation, sent: str) -> None:
    """What the inviter is told once the invitation has committed (the request's
    transaction, bpij.middleware.DatabaseScopeMiddleware, commits before the messages
    are stored): sent, or, when neither the task queue nor the mail server took its
    e-mail, that the invitation is saved but its e-mail did not go, and what to do."""

    def tell() -> None:
        if invitation.mail == services.MAIL_NOT_SENT:
            messages.warning(
                request,
                f"The invitation for {invitation.email} is saved, but its e-mail could not "
                "be sent just now (the hub's mail service did not answer). Use “Resend” "
                "beside it below in a few minutes: the new link replaces this one.",
            )
        else:
            messages.success(request, sent)

    # After the service's own callback, which sends the e-mail and says how it went.
    transaction.on_commit(tell)


def _manageable_coalition(request: AuthedRequest, code) -> Coalition:
    return get_editable_or_404(
        Coalition.objects, request.user, permissions.can_manage_members, code=code
    )


@require_POST
def member_invite(request: AuthedRequest, coalition_code) -> HttpResponse:
    coalition = _manageable_coalition(request, coalition_code)
    form = forms.MemberInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                invited_by=request.user,
                coalition=coalition,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            _tell_sent(
                request,
                invitation,
                f"Invitation sent to {invitation.email}. The link works for "
                f"{invitation.valid_for} days.",
            )
            return redirect("grantees:member-list", coalition_code=coalition.code)
    return _render_members(request, coalition, form, status=400)


@require_POST
def member_change_role(request: AuthedRequest, coalition_code, member) -> HttpResponse:
    coalition = _manageable_coalition(request, coalition_code)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "coalition"), coalition=coalition, code=member
    )
    form = forms.MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            services.membership_change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{membership.user.display_name} is now {membership.get_role_display().lower()}.",
            )
    return redirect("grantees:member-list", coalition_code=coalition.code)


@require_POST
def member_remove(request: AuthedRequest, coalition_code, member) -> HttpResponse:
    coalition = _manageable_coalition(request, coalition_code)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "coalition"), coalition=coalition, code=member
    )
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.display_name} no longer has access.")
    return redirect("grantees:member-list", coalition_code=coalition.code)


@require_POST
def invitation_action(
    request: AuthedRequest, coalition_code, invitation, action: str
) -> HttpResponse:
    """Resend or revoke a pending invitation (coalition or staff)."""
    invitation_obj = get_visible_or_404(
        Invitation.objects.select_related("coalition"), request.user, code=invitation
    )
    coalition = invitation_obj.coalition
    if coalition is not None and (
        coalition.code != coalition_code
        or not permissions.can_manage_members(request.user, coalition)
    ):
        raise PermissionDenied
    if coalition is None and not request.user.is_jff_admin:
        raise PermissionDenied
    try:
        if action == "resend":
            sent = services.invitation_resend(invitation=invitation_obj, actor=request.user)
            _tell_sent(request, sent, f"A new link was sent to {invitation_obj.email}.")
        else:
            services.invitation_revoke(invitation=invitation_obj, actor=request.user)
            messages.success(request, f"The invitation for {invitation_obj.email} was withdrawn.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if coalition is None:
        return redirect("grantees:user-list")
    return redirect("grantees:member-list", coalition_code=coalition.code)


@login_not_required
@unrestricted
def invitation_accept(request: PublicRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationUnusable as problem:
        return render(
            request, "grantees/invitation_problem.html", {"problem": str(problem)}, status=410
        )
    has_account = User.objects.filter(email=invitation.email).exists()
    form = None
    if not has_account:
        form = forms.InvitationAcceptForm(
            request.POST or None,
            email=invitation.email,
            initial={"full_name": invitation.full_name},
        )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            member = services.invitation_accept(
                invitation=invitation,
                user=request.user if request.user.is_authenticated else None,
                full_name=form.cleaned_data["full_name"] if form else "",
                password=form.cleaned_data["password1"] if form else "",
            )
        except services.InvitationUnusable as problem:
            return render(
                request, "grantees/invitation_problem.html", {"problem": str(problem)}, status=409
            )
        if not request.user.is_authenticated:
            login(request, member, backend="django.contrib.auth.backends.ModelBackend")
        where = invitation.coalition.name if invitation.coalition else "the BPIJ Reporting Hub"
        messages.success(request, f"Welcome to {where}.")
        return redirect("home")
    context = {
        "invitation": invitation,
        "form": form,
        "has_account": has_account,
        "signed_in_as_other": request.user.is_authenticated
        and request.user.email != invitation.email,
    }
    return render(request, "grantees/invitation_accept.html", context)


def _require_jff_admin(request: AuthedRequest) -> None:
    if not request.user.is_jff_admin:
        raise PermissionDenied


def user_list(request: AuthedRequest) -> HttpResponse:
    """JFF administrators' list of every account, with staff invitations."""
    _require_jff_admin(request)
    return _render_users(request, forms.StaffInviteForm())


def _render_users(request: AuthedRequest, invite_form, status=200) -> HttpResponse:
    filter_form = forms.UserFilterForm(request.GET or None)
    users = User.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("coalition"))
    ).order_by("email")
    if filter_form.is_valid():
        text = filter_form.cleaned_data["q"].strip()
        if text:
            users = users.filter(Q(email__icontains=text) | Q(full_name__icontains=text))
        kind = filter_form.cleaned_data["kind"]
        if kind == "staff":
            users = users.exclude(staff_role="")
        elif kind == "grantee":
            users = users.filter(staff_role="")
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    context = {
        "filter_form": filter_form,
        "page": page,
        "invite_form": invite_form,
        "staff_invitations": Invitation.objects.filter(coalition__isnull=True)
        .pending()
        .select_related("invited_by"),
        "staff_roles": StaffRole.choices,
        "query_string": _query_without_page(request),
    }
    template = "grantees/user_list.html"
    if request.htmx and status == 200:
        template += "#results"
    return render(request, template, context, status=status)


def _query_without_page(request: AuthedRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_POST
def staff_invite(request: AuthedRequest) -> HttpResponse:
    _require_jff_admin(request)
    form = forms.StaffInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("email", error)
        else:
            _tell_sent(request, invitation, f"Invitation sent to {invitation.email}.")
            return redirect("grantees:user-list")
    return _render_users(request, form, status=400)


@require_POST
def user_change_role(request: AuthedRequest, user_code) -> HttpResponse:
    _require_jff_admin(request)
    person = get_object_or_404(User, uuid=user_code)
    form = forms.StaffRoleForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_staff_role(
                user=person,
                staff_role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"{person.display_name} is now {person.get_staff_role_display()}."
            )
    else:
        messages.error(request, "Choose one of the listed staff roles.")
    return redirect(reverse("grantees:user-list") + "?" + request.POST.get("next_query", ""))


@require_POST
def user_set_active(request: AuthedRequest, user_code) -> HttpResponse:
    _require_jff_admin(request)
    person = get_object_or_404(User, uuid=user_code)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=person, active=active, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        state = "can sign in again" if active else "can no longer sign in"
        messages.success(request, f"{person.display_name} {state}.")
    return redirect(reverse("grantees:user-list") + "?" + request.POST.get("next_query", ""))
