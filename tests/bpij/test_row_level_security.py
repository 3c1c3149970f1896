"""PostgreSQL's row-level security holds the runtime login to the same scope as
visible_to(), so a query that forgets its filter fails closed; and the login cannot step
out of it."""

import polars as pl
import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from bpij import tenancy
from bpij.models import StaffRole
from bpij.tenancy import Scope, TenantQuerySet
from grantees import services
from grantees.models import Coalition, Grant, Membership, Target
from reporting import records, tasks
from reporting.models import ParticipantRecord, Submission
from tests import builders, factories, sessions

RUNTIME = settings.DB_APP_ROLE
TENANT_MODELS = [
    m for m in apps.get_models() if isinstance(m._default_manager.all(), TenantQuerySet)
]


def query(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def list_scope(*coalitions):
    return tenancy.database_scope(Scope(tenancy.SCOPE_LIST, [c.pk for c in coalitions]))


@pytest.fixture
def fpo(db):
    return factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)


# --- The runtime login ----------------------------------------------------------------


def test_the_app_connects_as_a_login_that_no_policy_lets_go(db):
    assert query("SELECT current_user") == query("SELECT session_user") == RUNTIME
    for attribute in ("rolsuper", "rolbypassrls", "rolcreaterole", "rolcreatedb"):
        assert not query(f"SELECT {attribute} FROM pg_roles WHERE rolname = current_user")
    # A member of no role, so there is no one to SET ROLE to; and it owns no table.
    assert query("SELECT count(*) FROM pg_auth_members WHERE member = current_user::regrole") == 0
    assert query("SELECT count(*) FROM pg_tables WHERE tableowner = current_user") == 0


def test_the_database_check_finds_the_runtime_login_held_by_the_policies(db):
    assert tenancy.check_runtime_login(databases=["default"]) == []


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("SET ROLE postgres", "permission denied"),
        (f"SET ROLE {settings.TEST_DATABASE_OWNER['USER']}", "permission denied"),
        ("SET SESSION AUTHORIZATION postgres", "permission denied"),
        ("SET row_security = off", "row-level security"),
        ("TRUNCATE reporting_participantrecord", "permission denied"),
        ("TRUNCATE bpij_auditevent", "permission denied"),
        ("CREATE TABLE escape (id int)", "permission denied"),
        ("ALTER TABLE grantees_coalition DISABLE ROW LEVEL SECURITY", "must be owner"),
    ],
)
def test_the_runtime_login_cannot_step_out_of_its_scope(cast, statement, refusal):
    # SET row_security = off is accepted, then refuses any query a policy filters.
    escape = f"{statement}; SELECT count(*) FROM grantees_coalition"
    with list_scope(cast.coalition_a):
        with pytest.raises(DatabaseError, match=refusal), transaction.atomic():
            query(escape)
        assert list(Coalition.objects.all()) == [cast.coalition_a]


def test_reset_role_leaves_the_runtime_login_as_it_was(cast):
    with list_scope(cast.coalition_a), connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        assert query("SELECT current_user") == RUNTIME
        assert list(Coalition.objects.all()) == [cast.coalition_a]


def test_the_runtime_login_may_write_the_audit_log_but_not_change_the_migrations(db):
    assert query("SELECT has_table_privilege('bpij_auditevent', 'INSERT')")
    assert not query("SELECT has_table_privilege('bpij_auditevent', 'TRUNCATE')")
    assert not query("SELECT has_table_privilege('django_migrations', 'INSERT')")


# --- Scopes ----------------------------------------------------------------------------


def test_a_listed_scope_sees_only_its_coalitions_rows(cast):
    with list_scope(cast.coalition_a):
        assert list(Coalition.objects.all()) == [cast.coalition_a]
        assert {g.coalition_id for g in Grant.objects.all()} == {cast.coalition_a.pk}
        assert {m.coalition_id for m in Membership.objects.all()} == {cast.coalition_a.pk}
    assert Coalition.objects.count() == 2


def test_no_scope_sees_no_tenant_rows(cast):
    with tenancy.database_scope(Scope(tenancy.SCOPE_NONE)):
        assert Coalition.objects.count() == 0
        assert Target.objects.count() == 0


def test_the_all_scope_sees_everything(cast):
    with tenancy.database_scope(Scope(tenancy.SCOPE_ALL)):
        assert Coalition.objects.count() == 2


def test_writing_into_another_coalition_is_refused(cast):
    grant_b = cast.coalition_b.grants.get()
    with (
        list_scope(cast.coalition_a),
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
        ("jff_admin", tenancy.SCOPE_ALL, []),
        ("outsider_b", tenancy.SCOPE_LIST, ["coalition_b"]),
    ],
)
def test_each_role_gets_its_scope(cast, who, scope, sees):
    assert tenancy.scope_for(cast[who]) == (scope, [getattr(cast, c).pk for c in sees])


def test_the_federal_project_officer_gets_the_aggregates_scope(fpo):
    assert tenancy.scope_for(fpo) == (tenancy.SCOPE_AGGREGATES, [])


@pytest.fixture
def reports(cast):
    """A submitted version for A (with records, findings, history) and a draft for B."""
    builders.submitted_version(builders.period_of(cast.coalition_a, "2025Q3"), cast.admin_a)
    builders.checked_version(
        builders.period_of(cast.coalition_b, "2025Q3"), cast.outsider_b, error_rate=0.1
    )
    return cast


def test_the_database_and_visible_to_read_the_one_rule_the_same_way(reports, fpo):
    """For every role and every tenant table, the rows the ORM gives (visible_to) are
    the rows the policies give (the request's scope, no filter)."""
    people = [reports[name] for name in ("admin_a", "viewer_a", "coach_a", "officer")]
    for user in [*people, reports.outsider_b, fpo]:
        for model in TENANT_MODELS:
            by_orm = set(model._default_manager.visible_to(user).values_list("pk", flat=True))
            with tenancy.database_scope(tenancy.scope_for(user)):
                by_database = set(model._default_manager.values_list("pk", flat=True))
            assert by_orm == by_database, (user.email, model.__name__)


def test_the_federal_project_officer_reads_no_row_about_people_at_the_database(reports, fpo):
    filled = [m for m in TENANT_MODELS if m._default_manager.exists()]
    assert {"Submission", "Upload", "Finding", "ParticipantRecord", "Membership"} <= {
        m.__name__ for m in filled
    }
    with tenancy.database_scope(tenancy.scope_for(fpo)):
        for model in filled:
            aggregate = model._default_manager.all().funder_visible
            assert model._default_manager.exists() == aggregate, model.__name__


def test_each_tables_policy_says_what_its_queryset_says_about_people(db):
    for model in TENANT_MODELS:
        policy = query(
            "SELECT qual FROM pg_policies WHERE tablename = %s AND policyname = 'tenant_scope'",
            [model._meta.db_table],
        )
        aggregate = model._default_manager.all().funder_visible
        assert policy.endswith(f"{'true' if aggregate else 'false'})"), (model, policy)


# --- Scopes live as long as their transaction -----------------------------------------


@pytest.mark.unscoped
@pytest.mark.django_db(transaction=True)
def test_a_scope_set_in_a_transaction_is_gone_from_the_next_one():
    with tenancy.system_scope():
        factories.GrantFactory()
    with transaction.atomic():
        query("SELECT set_config('bpij.scope', 'all', true)")
        assert Coalition.objects.count() == 1
    # The same connection, a new transaction: nothing of the scope is left.
    assert query("SELECT coalesce(current_setting('bpij.scope', true), '')") == ""
    assert Coalition.objects.count() == 0


@pytest.mark.unscoped
@pytest.mark.django_db(transaction=True)
def test_a_request_leaves_nothing_on_the_connection(client):
    with tenancy.system_scope():
        grant = factories.GrantFactory()
        officer = factories.StaffFactory(staff_role=StaffRole.PROGRAM_OFFICER)
    sessions.sign_in(client, officer)
    code = grant.coalition.code
    assert client.get(reverse("grantees:coalition-detail", args=[code])).status_code == 200
    assert query("SELECT coalesce(current_setting('bpij.scope', true), '')") == ""
    assert Coalition.objects.count() == 0


def test_a_request_puts_back_the_scope_it_found(cast, client_for):
    client_for(cast.admin_a).get(reverse("grantees:coalition-detail", args=[cast.coalition_a.code]))
    assert query("SELECT current_setting('bpij.scope', true)") == tenancy.SCOPE_SYSTEM
    assert Coalition.objects.count() == 2


@pytest.mark.unscoped
@pytest.mark.django_db(transaction=True)
def test_a_scope_held_outside_a_transaction_reaches_each_statement_in_one_of_its_own():
    with tenancy.system_scope():
        grant = factories.GrantFactory()
    with tenancy.for_coalition(grant.coalition_id):
        assert list(Coalition.objects.all()) == [grant.coalition]
        assert query("SELECT current_setting('bpij.scope', true)") == tenancy.SCOPE_LIST
    assert Coalition.objects.count() == 0


# --- Views and tasks -------------------------------------------------------------------


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


def test_a_task_holds_itself_to_the_coalition_its_arguments_name(reports, monkeypatch):
    submission_a = Submission.objects.get(coalition=reports.coalition_a)
    seen = {}

    def spy(submission_id):
        seen["coalitions"] = set(Coalition.objects.values_list("pk", flat=True))
        seen["records"] = set(ParticipantRecord.objects.values_list("coalition_id", flat=True))
        return False  # the check's first step, in the task's scope; nothing more to run

    monkeypatch.setattr("reporting.services.recovery.check_begin", spy)
    tasks.check_submission(submission_a.pk)
    assert seen == {"coalitions": {reports.coalition_a.pk}, "records": {reports.coalition_a.pk}}


def test_copying_records_into_another_coalition_is_refused(reports):
    submission_b = Submission.objects.get(coalition=reports.coalition_b)
    frame = pl.DataFrame(
        {"coalition_id": [reports.coalition_b.pk], "submission_id": [submission_b.pk]}
    )
    with (
        list_scope(reports.coalition_a),
        pytest.raises(DatabaseError, match="row-level security"),
    ):
        records.copy_rows(ParticipantRecord, frame)


def test_migrate_runs_as_the_owner_login_whenever_one_is_configured(monkeypatch):
    from bpij.management.commands import migrate

    def database_of_a_plain_migrate():
        return migrate.Command().create_parser("manage.py", "migrate").parse_args([]).database

    assert database_of_a_plain_migrate() == "default"
    monkeypatch.setitem(settings.DATABASES, "owner", {})
    assert database_of_a_plain_migrate() == "owner"
