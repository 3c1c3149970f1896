"""PostgreSQL's row-level security holds the application role to the same scope as
visible_to(), so a query that forgets its filter fails closed."""

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from bpij import tenancy
from grantees import services
from grantees.models import Coalition, Grant, Membership, Target


def current_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_a_listed_scope_sees_only_its_coalitions_rows(cast):
    assert tenancy.rls_enabled()
    with tenancy.database_scope(tenancy.SCOPE_LIST, [cast.coalition_a.pk]):
        assert current_role() == "bpij_app"
        assert list(Coalition.objects.all()) == [cast.coalition_a]
        assert {g.coalition_id for g in Grant.objects.all()} == {cast.coalition_a.pk}
        assert {m.coalition_id for m in Membership.objects.all()} == {cast.coalition_a.pk}
    assert current_role() != "bpij_app"
    assert Coalition.objects.count() == 2


def test_no_scope_sees_no_tenant_rows(cast):
    with tenancy.database_scope(tenancy.SCOPE_NONE):
        assert Coalition.objects.count() == 0
        assert Target.objects.count() == 0


def test_the_all_scope_sees_everything(cast):
    with tenancy.database_scope(tenancy.SCOPE_ALL):
        assert Coalition.objects.count() == 2


def test_writing_into_another_coalition_is_refused(cast):
    grant_b = cast.coalition_b.grants.get()
    with (
        tenancy.database_scope(tenancy.SCOPE_LIST, [cast.coalition_a.pk]),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        Target.objects.create(coalition=cast.coalition_b, grant=grant_b, measure="C-1", value=1)


@pytest.mark.parametrize(
    ("who", "scope", "sees"),
    [
        ("admin_a", tenancy.SCOPE_LIST, ["coalition_a"]),
        ("coach_a", tenancy.SCOPE_LIST, ["coalition_a"]),
        ("officer", tenancy.SCOPE_ALL, []),
        ("outsider_b", tenancy.SCOPE_LIST, ["coalition_b"]),
    ],
)
def test_each_role_gets_the_scope_visible_to_gives_it(cast, who, scope, sees):
    assert tenancy.scope_for(cast[who]) == (scope, [getattr(cast, c).pk for c in sees])


def test_a_view_that_forgot_its_filter_still_cannot_read_another_coalition(
    cast, client_for, monkeypatch
):
    """Take visible_to() away entirely: the database still answers 404 for B."""
    monkeypatch.setattr(
        "grantees.models.CoalitionQuerySet.visible_to", lambda self, user: self, raising=False
    )
    client = client_for(cast.admin_a)
    assert (
        client.get(reverse("grantees:coalition-detail", args=[cast.coalition_b.code])).status_code
        == 404
    )
    assert (
        client.get(reverse("grantees:coalition-detail", args=[cast.coalition_a.code])).status_code
        == 200
    )


def test_a_request_leaves_the_connection_as_it_found_it(cast, client_for):
    client_for(cast.admin_a).get(reverse("grantees:coalition-detail", args=[cast.coalition_a.code]))
    assert current_role() != "bpij_app"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('bpij.scope', true)")
        assert cursor.fetchone()[0] in (None, "")


def test_an_invitation_link_works_for_someone_signed_out(
    cast, client, django_capture_on_commit_callbacks
):
    """The invitation view is unrestricted: its secret token is the authority."""
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            invited_by=cast.admin_a,
            coalition=cast.coalition_a,
            email="rls@alpha.example",
            role="grantee_viewer",
        )
    token = mail.outbox[-1].body.split("/invitations/")[1].split("/")[0]
    assert client.get(f"/invitations/{token}/").status_code == 200
