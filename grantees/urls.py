from django.urls import path

from grantees import views

app_name = "grantees"

urlpatterns = [
    path("coalitions/", views.coalition_list, name="coalition-list"),
    path("coalitions/<uuid:coalition_code>/", views.coalition_detail, name="coalition-detail"),
    path("coalitions/<uuid:coalition_code>/members/", views.member_list, name="member-list"),
    path(
        "coalitions/<uuid:coalition_code>/members/invite/",
        views.member_invite,
        name="member-invite",
    ),
    path(
        "coalitions/<uuid:coalition_code>/members/<uuid:member>/role/",
        views.member_change_role,
        name="member-role",
    ),
    path(
        "coalitions/<uuid:coalition_code>/members/<uuid:member>/remove/",
        views.member_remove,
        name="member-remove",
    ),
    path(
        "coalitions/<uuid:coalition_code>/invitations/<uuid:invitation>/resend/",
        views.invitation_action,
        {"action": "resend"},
        name="invitation-resend",
    ),
    path(
        "coalitions/<uuid:coalition_code>/invitations/<uuid:invitation>/revoke/",
        views.invitation_action,
        {"action": "revoke"},
        name="invitation-revoke",
    ),
    path("staff/users/", views.user_list, name="user-list"),
    path("staff/users/invite/", views.staff_invite, name="staff-invite"),
    path("staff/users/<uuid:user_code>/role/", views.user_change_role, name="user-role"),
    path("staff/users/<uuid:user_code>/active/", views.user_set_active, name="user-active"),
    path(
        "staff/invitations/<uuid:invitation>/resend/",
        views.invitation_action,
        {"action": "resend", "coalition_code": None},
        name="staff-invitation-resend",
    ),
    path(
        "staff/invitations/<uuid:invitation>/revoke/",
        views.invitation_action,
        {"action": "revoke", "coalition_code": None},
        name="staff-invitation-revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
