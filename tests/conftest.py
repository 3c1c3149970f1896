"""The fixed cast of STYLE.md: a grantee admin and a viewer of coalition A, a coach
assigned to A, a program officer, and an outsider from coalition B (plus A's reporter
and a JFF administrator where a test needs them)."""

import functools
from dataclasses import dataclass

import pytest

from bpij.models import StaffRole, User
from grantees.models import Coalition, MemberRole
from tests import database, factories, sessions
from tests.s3 import s3_bucket, s3_server  # noqa: F401  (fixtures: a real S3-compatible server)

# The app connects as the runtime login, held to row-level security (tests/database.py).
django_db_setup = pytest.fixture(scope="session")(database.django_db_setup)
_test_code_in_system_scope = pytest.fixture(autouse=True)(database.test_code_in_system_scope)


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """Each test starts with an empty cache: a dashboard piece kept by an earlier test,
    whose rows were rolled back, must not be served to the next (reporting.pagecache)."""
    from django.core.cache import cache

    from reporting import pagecache

    cache.clear()
    pagecache.clear_local()


@pytest.fixture(autouse=True)
def _native_sheets_are_calamine_sheets(monkeypatch):
    """Every worksheet the native reader (native/sheetcells) reads in the suite is read
    by calamine too, and the two grids must be the same cell for cell: the suite's own
    workbooks, of every test, cross-check the fast reader against the reference."""
    from reporting.checks import workbook
    from tests.sheet_readers import assert_native_reads_as_calamine

    read_sheet = workbook.read_sheet

    def read_and_compare(data: bytes):
        sheet = read_sheet(data)
        if isinstance(sheet, workbook.SheetCells):
            for kind in ("participants", "placements"):
                assert_native_reads_as_calamine(sheet, data, kind)
        return sheet

    monkeypatch.setattr(workbook, "read_sheet", read_and_compare)


@pytest.fixture(autouse=True)
def _native_csv_is_the_csv_module(monkeypatch):
    """Every CSV file the suite reads is read by the native reader (native/sheetcells/
    csvcolumns.c) and by Python's csv module too, and the two grids must be the same: the
    suite's own files, of every test, cross-check the fast reader against the reference."""
    from reporting.checks import native, reading
    from tests.sheet_readers import assert_native_reads_as_csv_module

    csv_grid = reading._csv_grid

    @functools.wraps(csv_grid)  # a test that counts reads takes __wrapped__
    def read_and_compare(data: bytes, read_ahead=None):
        grid = csv_grid(data, read_ahead)  # a file refused is refused before this
        assert_native_reads_as_csv_module(data.removeprefix(native.BOM))
        return grid

    monkeypatch.setattr(reading, "_csv_grid", read_and_compare)


@dataclass
class Cast:
    coalition_a: Coalition
    coalition_b: Coalition
    admin_a: User
    reporter_a: User
    viewer_a: User
    coach_a: User
    officer: User
    jff_admin: User
    outsider_b: User

    def __getitem__(self, name: str) -> User:
        return getattr(self, name)


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    """The cast's rows, for a fixture of wider scope than ``cast`` (the security matrix
    builds its data once per module)."""
    grant_a = factories.GrantFactory(
        coalition__name="Alpha Wind Coalition (test)", coalition__slug="alpha"
    )
    grant_b = factories.GrantFactory(
        coalition__name="Bravo Broadband Coalition (test)",
        coalition__slug="bravo",
        coalition__states_served=["TX"],
        coalition__sectors=["broadband"],
    )
    a, b = grant_a.coalition, grant_b.coalition
    factories.TargetFactory(grant=grant_a, measure="A-2", value=640)
    factories.TargetFactory(grant=grant_b, measure="A-2", value=500)

    def member(coalition, role, email):
        return factories.MembershipFactory(coalition=coalition, role=role, user__email=email).user

    coach = factories.StaffFactory(email="coach@jff.example", staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=a, coach=coach)
    return Cast(
        coalition_a=a,
        coalition_b=b,
        admin_a=member(a, MemberRole.ADMIN, "admin@alpha.example"),
        reporter_a=member(a, MemberRole.REPORTER, "reporter@alpha.example"),
        viewer_a=member(a, MemberRole.VIEWER, "viewer@alpha.example"),
        coach_a=coach,
        officer=factories.StaffFactory(
            email="officer@jff.example", staff_role=StaffRole.PROGRAM_OFFICER
        ),
        jff_admin=factories.StaffFactory(email="admin@jff.example", staff_role=StaffRole.JFF_ADMIN),
        outsider_b=member(b, MemberRole.ADMIN, "admin@bravo.example"),
    )


@pytest.fixture
def client_for(client):
    """Sign a test client in as someone: ``client_for(cast.viewer_a)``. Staff are signed
    in as after the second step too (tests.sessions.sign_in_with_password_only stops
    before it)."""
    return lambda user: sign_in(client, user)


def sign_in(client, user: User | None):
    """What ``client_for`` does, for a client of wider scope (the security matrix signs
    each role in once per module)."""
    client.logout()
    if user is not None:
        sessions.sign_in(client, user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _flush_steps_past_the_audit_truncate_guard():
    """Transactional tests end with a flush (one TRUNCATE of every table), which the
    audit log's trigger refuses; the flush lifts that one trigger inside its own
    transaction, as only the table's owner can."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if "bpij_auditevent" not in tables or not statements:
            return statements
        guard = "ALTER TABLE bpij_auditevent {} TRIGGER bpij_auditevent_no_truncate;"
        return [guard.format("DISABLE"), *statements, guard.format("ENABLE")]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield
