"""The test database, set up the way production runs (docs/security.md, "Database roles"):

- the runtime login (DB_APP_ROLE) is created if missing and stripped of anything that
  would widen it: no superuser, no BYPASSRLS, no CREATEROLE/CREATEDB, no membership;
- the test database is created and migrated by the owner;
- every test connects as the runtime login, held to row-level security. Test code itself
  (fixtures, factories, assertions) is trusted code and runs in the system scope; the
  requests and tasks it drives hold their own scope, as they do in production (a test
  marked ``unscoped`` holds none);
- a transactional test's tables are emptied by the owner (the runtime login may not
  TRUNCATE).
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.test import TransactionTestCase
from psycopg import sql

from bpij import tenancy

DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def ensure_runtime_login() -> None:
    """Create the runtime login if the owner may, and make sure it is no wider than it
    should be (idempotent: every test run does it)."""
    runtime = settings.DATABASES["default"]
    role = runtime["USER"]
    if role == settings.TEST_DATABASE_OWNER["USER"]:
        raise pytest.UsageError(
            "The tests' runtime login is the owner; set DB_APP_ROLE (or DATABASE_URL, with "
            "DATABASE_OWNER_URL for the owner) so the app connects as a login held to RLS."
        )
    with psycopg.connect(
        host=runtime["HOST"] or "127.0.0.1",
        port=runtime["PORT"] or 5432,
        user=settings.TEST_DATABASE_OWNER["USER"],
        password=settings.TEST_DATABASE_OWNER["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as owner:
        # Parallel workers (pytest-xdist) and concurrent runs share the cluster's roles: one
        # at a time, or ALTER ROLE fails with "tuple concurrently updated".
        owner.execute("SELECT pg_advisory_lock(hashtext('bpij-test-runtime-login'))")
        exists = owner.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if not exists:
            # Another test run may make it meanwhile.
            with suppress(psycopg.errors.DuplicateObject):
                owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        can_alter = owner.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        if can_alter:
            owner.execute(
                sql.SQL(
                    "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS NOINHERIT PASSWORD {}"
                ).format(sql.Identifier(role), sql.Literal(runtime["PASSWORD"] or None))
            )
            memberships = owner.execute(
                "SELECT roleid::regrole::text FROM pg_auth_members WHERE member = %s::regrole",
                [role],
            ).fetchall()
            for (granted,) in memberships:
                owner.execute(
                    sql.SQL("REVOKE {} FROM {}").format(
                        sql.Identifier(granted), sql.Identifier(role)
                    )
                )


@contextmanager
def owner_login(alias: str = "default", *, everywhere: bool = False) -> Iterator[None]:
    """Connect ``alias`` as the owner for the block. ``everywhere`` changes the shared
    settings (set-up and tear-down, when no other thread runs); otherwise only this
    thread's connection."""
    connection = connections[alias]
    connection.close()
    owner = settings.TEST_DATABASE_OWNER
    if everywhere:
        runtime = {k: connection.settings_dict[k] for k in owner}
        connection.settings_dict.update(owner)
    else:
        runtime_dict = connection.settings_dict
        connection.settings_dict = {**runtime_dict, **owner}
    try:
        yield
    finally:
        connection.close()
        if everywhere:
            connection.settings_dict.update(runtime)
        else:
            connection.settings_dict = runtime_dict


def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb,
                    django_db_createdb, django_db_modify_db_settings):  # fmt: skip
    """pytest-django's set-up, run as the owner, with the runtime login made first."""
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        ensure_runtime_login()
        with owner_login(everywhere=True):
            config = setup_databases(
                verbosity=verbosity,
                interactive=False,
                keepdb=keepdb,
                aliases={"default"},
                serialized_aliases=set(),
            )
    yield
    if not keepdb:
        with django_db_blocker.unblock(), owner_login(everywhere=True):
            _end_stray_sessions()
            teardown_databases(config, verbosity=verbosity)


def _end_stray_sessions() -> None:
    """A thread of a test (the browser tests' live server, the concurrency tests) can
    leave its connection open until it is collected; DROP DATABASE refuses to run past
    one, which failed the last test's teardown. End them first: this is the end of the
    run, and the database is about to go."""
    from django.db import connection, connections

    name = connection.settings_dict["NAME"]
    connections.close_all()
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def test_code_in_system_scope(request) -> Iterator[None]:
    uses_database = request.node.get_closest_marker("django_db") or (
        DATABASE_FIXTURES & set(request.fixturenames)
    )
    if not uses_database or request.node.get_closest_marker("unscoped"):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    with tenancy.system_scope():
        yield


_flush = TransactionTestCase._fixture_teardown


def _flush_as_owner(self) -> None:
    with owner_login():
        _flush(self)


# TestCase (a test in a transaction) has its own _fixture_teardown, a rollback.
TransactionTestCase._fixture_teardown = _flush_as_owner  # type: ignore[method-assign]
