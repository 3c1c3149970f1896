"""The audit log: what is written, that it cannot be changed, and the staff page."""

from unittest.mock import ANY

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from bpij import services
from bpij.models import AuditAction, AuditEvent, AuditLogIsAppendOnly
from grantees import services as grantee_services
from tests import factories


def actions():
    """What was logged, leaving out the sign-ins the test client's force_login makes."""
    return list(
        AuditEvent.objects.exclude(action=AuditAction.LOGIN_SUCCEEDED)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_sign_in_is_logged_with_who_and_from_where(client, cast):
    client.post(
        reverse("account_login"),
        {"login": cast.admin_a.email, "password": factories.PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Firefox/140",
    )
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_SUCCEEDED)
    assert event.actor == cast.admin_a
    assert event.actor_email == cast.admin_a.email
    assert event.ip_address == "203.0.113.9"
    assert event.user_agent == "Firefox/140"


def test_a_failed_sign_in_is_logged_with_the_address_tried(client, cast):
    client.post(
        reverse("account_login"), {"login": "Admin@Alpha.example", "password": "wrong-password"}
    )
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_email == "admin@alpha.example"
    assert "wrong-password" not in str(event.detail)


def test_sign_out_is_logged(client_for, cast):
    client = client_for(cast.viewer_a)
    client.post(reverse("account_logout"))
    assert actions() == [AuditAction.LOGOUT]


def test_member_changes_are_logged_with_their_coalition(cast, client_for):
    client = client_for(cast.admin_a)
    membership = cast.viewer_a.memberships.get()
    client.post(
        reverse("grantees:member-role", args=[cast.coalition_a.code, membership.code]),
        {"role": "grantee_reporter"},
    )
    client.post(reverse("grantees:member-remove", args=[cast.coalition_a.code, membership.code]))
    role_change, removal = AuditEvent.objects.exclude(action=AuditAction.LOGIN_SUCCEEDED).order_by(
        "id"
    )
    assert role_change.action == AuditAction.ROLE_CHANGED
    assert role_change.detail == {
        "from": "grantee_viewer",
        "to": "grantee_reporter",
        "request_id": ANY,  # the request that changed it (bpij.observability)
    }
    assert role_change.coalition_uuid == cast.coalition_a.code
    assert role_change.coalition_name == cast.coalition_a.name
    assert role_change.target == cast.viewer_a.email
    assert removal.action == AuditAction.MEMBER_REMOVED


def test_invitations_are_logged(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = grantee_services.invitation_create(
            invited_by=cast.admin_a,
            coalition=cast.coalition_a,
            email="x@alpha.example",
            role="grantee_viewer",
        )
    grantee_services.invitation_revoke(invitation=invitation, actor=cast.admin_a)
    assert actions() == [AuditAction.INVITATION_CREATED, AuditAction.INVITATION_REVOKED]


def test_mfa_changes_are_logged(client, db, django_capture_on_commit_callbacks):
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    coach = factories.StaffFactory(staff_role="coach", mfa=False)
    client.post(reverse("account_login"), {"login": coach.email, "password": factories.PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302, response.content.decode()[:1500]
    assert AuditAction.MFA_ADDED in actions()
    stored = coach.authenticator_set.get(type="totp").data["secret"]
    assert get_adapter().decrypt(stored) == secret


def test_the_log_refuses_changes_in_python(cast):
    event = services.audit_record(action=AuditAction.LOGOUT, actor=cast.viewer_a)
    event.target = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(target="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_changes_underneath_the_orm(cast):
    assert connection.vendor == "postgresql"
    event = services.audit_record(action=AuditAction.LOGOUT, actor=cast.viewer_a)
    for statement in [
        "UPDATE bpij_auditevent SET target = 'rewritten' WHERE id = %s",
        "DELETE FROM bpij_auditevent WHERE id = %s",
    ]:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).target == ""


def test_the_audit_page_filters_by_action_person_and_coalition(cast, client_for):
    services.audit_record(
        action=AuditAction.ROLE_CHANGED,
        actor=cast.admin_a,
        coalition=cast.coalition_a,
        target="viewer@alpha.example",
    )
    services.audit_record(
        action=AuditAction.LOGOUT, actor=cast.outsider_b, coalition=cast.coalition_b
    )
    client = client_for(cast.officer)
    page = client.get(reverse("audit-log"), {"action": "role_changed"}).content.decode()
    assert "viewer@alpha.example" in page
    assert "admin@bravo.example" not in page
    page = client.get(reverse("audit-log"), {"actor": "bravo"}).content.decode()
    assert "admin@bravo.example" in page
    assert "viewer@alpha.example" not in page
    page = client.get(reverse("audit-log"), {"coalition": "Bravo"}).content.decode()
    assert "admin@bravo.example" in page
    assert "viewer@alpha.example" not in page


def test_the_audit_page_writes_lists_and_objects_in_words_with_ssns_masked(cast, client_for):
    services.audit_record(
        action=AuditAction.REMINDER_SENT,
        coalition=cast.coalition_a,
        target="Due reminder, 2026Q3 report",
        detail={
            "kind": "due",
            "to": ["admin@alpha.example", "reporter@alpha.example"],
            "cc": [],
        },
    )
    services.audit_record(
        action=AuditAction.PII_VIEWED,
        actor=cast.coach_a,
        coalition=cast.coalition_a,
        target="findings of the 2026Q3 report, version 1",
        detail={"query": "q=123-45-6789", "htmx": True, "filters": {"rule": "E12", "page": 2}},
    )
    page = client_for(cast.officer).get(reverse("audit-log")).content.decode()
    results = page[page.index('id="results"') :]
    assert "[&#x27;" not in results
    assert "{&#x27;" not in results
    assert "admin@alpha.example, reporter@alpha.example" in results
    assert "page: 2; rule: E12" in results  # jsonb keeps an object's keys sorted
    assert "123-45-6789" not in page
    assert "***-**-6789" in results


def test_the_audit_page_explains_a_backwards_date_range(cast, client_for):
    response = client_for(cast.officer).get(
        reverse("audit-log"), {"since": "2026-05-01", "until": "2026-04-01"}
    )
    assert "must be on or after the start date" in response.content.decode()


def test_an_htmx_filter_returns_only_the_results_fragment(cast, client_for):
    response = client_for(cast.officer).get(reverse("audit-log"), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert 'id="results"' in text
    assert "<html" not in text


def test_the_audit_page_keeps_to_a_fixed_number_of_queries(
    cast, client_for, django_assert_max_num_queries
):
    client = client_for(cast.officer)
    client.get(reverse("audit-log"))
    for i in range(60):
        services.audit_record(action=AuditAction.LOGOUT, actor=cast.viewer_a, target=str(i))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("audit-log"))
    assert response.status_code == 200


def test_refusals_of_anonymous_requests_and_missing_files_are_not_written(cast, client, client_for):
    assert client.get("/coalitions/no-such-thing/").status_code in (302, 404)
    signed_in = client_for(cast.viewer_a)
    assert signed_in.get("/static/no-such-file.css").status_code == 404
    assert signed_in.get("/favicon.ico").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()


def test_a_signed_in_persons_404_on_an_unknown_address_is_written(cast, client_for):
    assert client_for(cast.viewer_a).get("/coalitions/no-such-thing/").status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (event.actor, event.detail["status"]) == (cast.viewer_a, 404)


def admin_request(user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().post("/admin/", {"post": "yes"})
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_change_made_in_the_django_admin_is_written(cast):
    from django.contrib import admin

    from grantees.models import Coalition

    operator = factories.StaffFactory(
        email="ops@jff.example", staff_role="jff_admin", is_staff=True, is_superuser=True
    )
    model_admin = admin.site._registry[Coalition]
    model_admin.log_change(
        admin_request(operator), cast.coalition_a, [{"changed": {"fields": ["Name"]}}]
    )
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGED)
    assert event.actor == operator
    assert event.target == f"grantees.Coalition {cast.coalition_a}"
    assert event.detail == {
        "model": "grantees.Coalition",
        "object_id": str(cast.coalition_a.pk),
        "change": "changed",
        "message": "Changed Name.",
    }


def test_a_deletion_of_several_objects_in_the_django_admin_writes_one_event_each(cast):
    from django.contrib import admin

    from grantees.models import Target

    operator = factories.StaffFactory(
        email="ops@jff.example", staff_role="jff_admin", is_staff=True, is_superuser=True
    )
    doomed = Target.objects.filter(coalition__in=[cast.coalition_a, cast.coalition_b])
    assert doomed.count() == 2
    model_admin = admin.site._registry[Target]
    action, _, _ = model_admin.get_actions(admin_request(operator))["delete_selected"]
    assert action(model_admin, admin_request(operator), doomed) is None
    events = AuditEvent.objects.filter(action=AuditAction.ADMIN_CHANGED)
    assert sorted(e.detail["change"] for e in events) == ["deleted", "deleted"]
    assert all(e.actor == operator for e in events)
