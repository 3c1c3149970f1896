"""Backups you have restored (issue 13, item 4).

The drill: seed a small real data set (the cast, a certified report with records, files and
a roll-up, a checked report with findings), back it up with ``manage.py backup``, ``initdb``
a throwaway cluster on another port (no ``bpij_app`` role in it), ``manage.py restore``
into it, and compare: rows per table, the figures, the stored files' hashes, row-level
security in force for the runtime login, and the app serving pages from the copy.

Marked ``pg_cluster``: it needs PostgreSQL's server programs (initdb, pg_ctl) beside the
client ones (pg_dump, pg_restore), and runs initdb as the ``postgres`` OS user when the
tests run as root. Missing programs fail the test with what to install; they do not skip it.
"""

import base64
import hashlib
import io
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from bpij import backups, tenancy
from bpij.storage import EncryptedFileSystemStorage
from reporting.models import Finding, ParticipantRecord, ProgramRollup, Rollup, Upload
from reporting.services import rollups
from tests import builders, sessions
from tests.conftest import build_cast

SUPERUSER_PASSWORD = "drill-superuser-password"


def _key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


# --- The archive's encryption (no database) ------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250, 300])
def test_an_archive_opens_to_exactly_what_was_sealed_across_chunk_boundaries(size):
    keyring = backups.backup_keyring(_key("b1"))
    data = os.urandom(size)
    sealed = io.BytesIO()
    writer = backups.SealingWriter(sealed, keyring, chunk=100)
    for start in range(0, size, 37):
        writer.write(data[start : start + 37])
    writer.close()
    reader = backups.OpeningReader(io.BytesIO(sealed.getvalue()), keyring)
    assert reader.read(7) + reader.read() == data


def _sealed(keyring, data: bytes, chunk: int = 100) -> bytes:
    out = io.BytesIO()
    writer = backups.SealingWriter(out, keyring, chunk=chunk)
    writer.write(data)
    writer.close()
    return out.getvalue()


# With key id "b1" and 100-byte chunks: a 54-byte header, then chunks of 116 bytes
# sealed (250 plaintext bytes: 116 + 116 + 66).
HEADER, SEALED = 54, 116


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-1], id="last byte cut"),
        pytest.param(lambda b: b[:-66], id="last chunk dropped"),
        pytest.param(lambda b: b[: -66 - SEALED], id="cut at a chunk boundary"),
        pytest.param(lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], id="a byte changed"),
        pytest.param(
            lambda b: (
                b[:HEADER]
                + b[HEADER + SEALED : HEADER + 2 * SEALED]
                + b[HEADER : HEADER + SEALED]
                + b[HEADER + 2 * SEALED :]
            ),
            id="chunks swapped",
        ),
        pytest.param(lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], id="the header changed"),
    ],
)
def test_a_damaged_archive_fails_loudly(damage):
    keyring = backups.backup_keyring(_key("b1"))
    sealed = _sealed(keyring, os.urandom(250))
    assert len(sealed) == HEADER + 2 * SEALED + 66
    with pytest.raises(backups.BackupError, match="does not authenticate"):
        backups.OpeningReader(io.BytesIO(damage(sealed)), keyring).read()


def test_an_archive_opens_with_its_key_after_rotation_and_says_which_key_is_missing():
    old, new = _key("b1"), _key("b2")
    sealed = _sealed(backups.backup_keyring(old), b"the dump")
    rotated = backups.backup_keyring(f"{new},{old}")
    assert backups.OpeningReader(io.BytesIO(sealed), rotated).read() == b"the dump"
    with pytest.raises(backups.BackupError, match=r"backup key 'b1'.*holds b2"):
        backups.OpeningReader(io.BytesIO(sealed), backups.backup_keyring(new))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "BACKUP_ENCRYPTION_KEY is not set"),
        ("b1:c2hvcnQ=", "exactly 32"),
        ("no key", "not a key id"),
    ],
)
def test_a_missing_or_malformed_backup_key_is_refused(value, message):
    with pytest.raises(backups.BackupError, match=message):
        backups.backup_keyring(value)


def test_a_backup_as_the_runtime_login_is_refused_with_the_login_to_use(db, tmp_path):
    runtime = backups.Login.from_settings(connection.settings_dict)
    with pytest.raises(
        backups.BackupError, match=r"held by the row-level security.*DATABASE_OWNER_URL"
    ):
        backups.make_backup(
            tmp_path / "runtime.bpijbak", owner=runtime, storage=default_storage,
            app_role=runtime.user, keyring=backups.backup_keyring(_key("b1")),
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_the_restore_says_how_the_backups_migrations_stand_against_the_code():
    from django.db.migrations.loader import MigrationLoader

    from bpij.management.commands.restore import migration_notes

    on_disk = sorted(f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations)
    assert migration_notes(on_disk) == []
    (older,) = migration_notes(on_disk[:-1])
    assert "run `manage.py migrate`" in older
    (newer,) = migration_notes([*on_disk, "reporting.9999_from_the_future"])
    assert "newer code" in newer


def test_a_restore_that_lost_a_policy_or_rows_names_what_differs():
    source = backups.Catalog(
        tables={"public.a": 3, "public.b": 0},
        rls_tables=["public.a"],
        policies=["public.a tenant_scope * to app", "public.b tenant_scope * to app"],
        triggers=["public.a guard enabled=O"],
    )
    assert backups.compare_catalogs(source, source) == []
    copy = backups.Catalog(
        tables={"public.a": 2, "public.b": 0},
        rls_tables=["public.a"],
        policies=["public.a tenant_scope * to app"],
        triggers=["public.a guard enabled=D"],
    )
    assert backups.compare_catalogs(source, copy) == [
        "policies: 2 expected, 1 found; missing public.b tenant_scope * to app",
        "triggers: 1 expected, 1 found; missing public.a guard enabled=O; "
        "not in the backup public.a guard enabled=D",
        "table public.a: 3 rows expected, 2 found",
    ]


def test_a_file_deleted_between_the_listing_and_its_copy_is_left_out(db, tmp_path, settings):
    """The nightly purge may delete a file the backup has listed but not yet copied."""

    class Purging(EncryptedFileSystemStorage):
        def listdir(self, path):
            directories, files = super().listdir(path)
            return directories, [*files, "purged.csv"] if path == "" else files

    storage = Purging(location=tmp_path / "media")
    storage.save("kept.csv", io.BytesIO(b"kept"))
    owner = backups.Login.from_settings(
        {**connection.settings_dict, **settings.TEST_DATABASE_OWNER}
    )
    keyring = backups.backup_keyring(_key("b1"))
    result = backups.make_backup(
        tmp_path / "b.bpijbak", owner=owner, storage=storage, app_role=settings.DB_APP_ROLE,
        keyring=keyring,
    )  # fmt: skip
    assert result.files == 1
    opened = backups.open_archive(result.path, tmp_path, keyring)
    assert [item["name"] for item in opened.files] == ["kept.csv"]


# --- The drill -----------------------------------------------------------------------


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; the tests do, in CI.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_program(name: str) -> str:
    try:
        return backups.pg_tool(name)
    except backups.BackupError:
        pytest.fail(
            f"The restore drill needs PostgreSQL's server programs ({name} not found): install "
            "the postgresql package (Debian) or put its bin directory on PATH."
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[backups.Login]:
    """A throwaway cluster: initdb in a temporary directory, on a free port, with only
    its superuser (password authentication over TCP, as a real server)."""
    initdb, pg_ctl = _server_program("initdb"), _server_program("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="bpij-drill-"))
    data, password_file = root / "data", root / "superuser"
    password_file.write_text(SUPERUSER_PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(password_file, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        [*_as_postgres(), initdb, "-D", str(data), "-U", "postgres", "-E", "UTF8",
         "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256",
         f"--pwfile={password_file}", "--no-sync"],
        **run,
    )  # fmt: skip
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB"
    )
    subprocess.run(
        [*_as_postgres(), pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-t", "30",
         "-o", options, "start"],
        **run,
    )  # fmt: skip
    try:
        yield backups.Login("postgres", SUPERUSER_PASSWORD, "127.0.0.1", port, "postgres")
    finally:
        subprocess.run(
            [*_as_postgres(), pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def leaves_the_cluster_empty(cluster) -> Iterator[None]:
    """Drop what a restore of the test database made, so the next test finds the cluster
    as initdb left it (no runtime role)."""
    yield
    with cluster.connect() as conn:
        for database in ("bpij_restored", "s3_copy"):
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {settings.DB_APP_ROLE}")


@contextmanager
def app_pointed_at(login: backups.Login) -> Iterator[None]:
    """The app's connection (and settings.DATABASES, the same dict) on another server."""
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(
        HOST=login.host, PORT=login.port, NAME=login.dbname, USER=login.user,
        PASSWORD=login.password,
    )  # fmt: skip
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def _stored(storage) -> dict[str, tuple[str, str]]:
    """name → (SHA-256 of the bytes stored, SHA-256 of the plaintext the app reads)."""
    hashes = {}
    for name in backups.walk_storage(storage):
        _, raw, _ = backups._hash_stored(storage, name)
        with storage.open(name) as plain:
            hashes[name] = (raw, hashlib.sha256(plain.read()).hexdigest())
    return hashes


def _visible(login: backups.Login, table: str, scope: str = "", coalitions: str = "") -> int:
    with login.connect(autocommit=False) as conn:
        conn.execute("SELECT set_config('bpij.scope', %s, true)", [scope])
        conn.execute("SELECT set_config('bpij.coalitions', %s, true)", [coalitions])
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.pg_cluster
@pytest.mark.django_db(transaction=True)
def test_restore_drill_into_an_empty_cluster(
    cluster, leaves_the_cluster_empty, tmp_path, settings, monkeypatch, client
):
    # Seed: committed, so pg_dump (another session) sees it; the files in a storage of the
    # test's own (the suite's media folder holds other tests' files, under other keys).
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cast = build_cast()
    period_a = builders.period_of(cast.coalition_a, "2024Q4")
    sent = builders.submitted_version(period_a, cast.admin_a, participants=30, seed=3)
    checked_b = builders.checked_version(
        builders.period_of(cast.coalition_b, "2024Q4"), cast.outsider_b, participants=20,
        seed=4, error_rate=0.3,
    )  # fmt: skip
    rollups.rollup_period(period_id=period_a.pk)
    assert ParticipantRecord.objects.filter(submission=sent).exists()
    assert Finding.objects.filter(upload__submission=checked_b).exists()
    figures = {r.period_id: r.figures for r in Rollup.objects.all()}
    program_figures = {(r.quarter, r.segment): r.figures for r in ProgramRollup.objects.all()}
    assert figures
    assert program_figures
    files_before = _stored(default_storage)
    assert len(files_before) >= 4  # two originals each, and the annotated workbooks
    owner = backups.Login.from_settings(
        {**connection.settings_dict, **settings.TEST_DATABASE_OWNER}
    )
    with owner.connect() as conn:
        source = backups.read_catalog(conn)
    assert len(source.policies) >= 20
    assert len(source.triggers) >= 3

    # Back up, through the command, as the owner.
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", _key("drill"))
    out = io.StringIO()
    call_command(
        "backup", "--to", str(tmp_path / "backups"), "--owner-url",
        f"postgres://{owner.user}:{owner.password}@{owner.host}:{owner.port}/{owner.dbname}",
        stdout=out,
    )  # fmt: skip
    assert "Backup written" in out.getvalue()
    (archive,) = (tmp_path / "backups").glob(f"*{backups.SUFFIX}")
    assert b"PARTICIPANT" not in archive.read_bytes().upper()  # sealed, not a plain tar

    # The fresh cluster has no runtime role.
    with cluster.connect() as conn:
        assert not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                [settings.DB_APP_ROLE]).fetchone()  # fmt: skip
    admin_url = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{cluster.port}/postgres"
    runtime = backups.Login(
        settings.DB_APP_ROLE, connection.settings_dict["PASSWORD"], "127.0.0.1", cluster.port,
        "bpij_restored",
    )  # fmt: skip
    monkeypatch.setenv("BPIJ_DB_APP_PASSWORD", runtime.password)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")  # an empty storage

    # Another ENCRYPTION_KEYS cannot open the files or SSNs: refused before anything is done.
    with (
        override_settings(ENCRYPTION_KEYS=[("other", os.urandom(32))]),
        app_pointed_at(runtime),
        pytest.raises(CommandError, match="sealed under key id"),
    ):
        call_command("restore", "--from", str(archive), "--admin-url", admin_url)
    with cluster.connect() as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'bpij_restored'"
                                ).fetchone()  # fmt: skip

    # Restore, through the command, into the empty cluster.
    out, warnings = io.StringIO(), io.StringIO()
    with app_pointed_at(runtime):
        call_command(
            "restore", "--from", str(archive), "--admin-url", admin_url, stdout=out,
            stderr=warnings,
        )  # fmt: skip
    assert "Restored bpij_restored" in out.getvalue()
    assert warnings.getvalue() == ""  # every login has its password; migrations all applied

    # Rows per table, policies, triggers and functions as in the source.
    with cluster.connect("bpij_restored") as conn:
        restored = backups.read_catalog(conn)
    assert restored.tables == source.tables
    assert sum(restored.tables.values()) > 100
    assert backups.compare_catalogs(source, restored) == []
    # The stored files, byte for byte, and they decrypt to what the app stored.
    restored_storage = EncryptedFileSystemStorage(location=tmp_path / "restored-media")
    assert _stored(restored_storage) == files_before

    # Row-level security in force for the runtime login, with its password from the env.
    a, b = cast.coalition_a.pk, cast.coalition_b.pk
    assert _visible(runtime, "grantees_coalition") == 0
    assert _visible(runtime, "reporting_participantrecord") == 0
    assert _visible(runtime, "grantees_coalition", "list", str(a)) == 1
    assert (
        _visible(runtime, "reporting_upload", "list", str(b))
        == Upload.objects.filter(submission__period__coalition_id=b).count()
    )
    per_coalition = {c: ParticipantRecord.objects.filter(coalition_id=c).count() for c in (a, b)}
    assert all(per_coalition.values())
    for c, count in per_coalition.items():
        assert _visible(runtime, "reporting_participantrecord", "list", str(c)) == count
    assert (
        _visible(runtime, "reporting_participantrecord", "all")
        == source.tables["public.reporting_participantrecord"]
    )

    # The app serves from the copy: the database check, the figures, pages, a download.
    upload = Upload.objects.filter(submission=sent).first()
    with app_pointed_at(runtime):
        assert tenancy.check_runtime_login(databases=["default"]) == []
        assert {r.period_id: r.figures for r in Rollup.objects.all()} == figures
        assert {
            (r.quarter, r.segment): r.figures for r in ProgramRollup.objects.all()
        } == program_figures
        call_command("audit_verify", stdout=io.StringIO())
        sessions.sign_in(client, cast.admin_a)
        page = client.get(reverse("reporting:period-list", args=[cast.coalition_a.code]))
        other = client.get(reverse("reporting:period-list", args=[cast.coalition_b.code]))
        download = client.get(reverse("reporting:upload-original", args=[upload.code]))
        assert page.status_code == 200
        assert cast.coalition_a.name in page.content.decode()
        assert other.status_code == 404
        assert download.status_code == 200
        assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == upload.sha256

        # A database in use is not overwritten without --force.
        with pytest.raises(CommandError, match="is not empty"):
            call_command("restore", "--from", str(archive), "--admin-url", admin_url)


SEPARATE_OWNER_SCHEMA = """
CREATE TABLE thing (id serial PRIMARY KEY, coalition_id bigint NOT NULL, note text);
ALTER TABLE thing ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON thing TO drill_app
    USING (coalesce(current_setting('bpij.scope', true), '') = 'all'
           OR coalition_id::text = current_setting('bpij.coalitions', true));
CREATE TABLE log (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'append only'; END $$;
CREATE TRIGGER log_append_only BEFORE UPDATE OR DELETE ON log
    FOR EACH ROW EXECUTE FUNCTION refuse();
CREATE FUNCTION look_up(person bigint) RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
    AS $$ SELECT count(*) FROM thing WHERE coalition_id = person $$;
REVOKE ALL ON FUNCTION look_up(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION look_up(bigint) TO drill_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON thing, log TO drill_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO drill_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES
    TO drill_app;
INSERT INTO thing (coalition_id, note) SELECT i % 3, 'row ' || i FROM generate_series(1, 12) i;
INSERT INTO log DEFAULT VALUES;
"""


@pytest.fixture
def separate_logins(cluster) -> Iterator[None]:
    yield
    with cluster.connect() as conn:
        for database in ("drill_source", "drill_copy"):
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for role in ("drill_app", "drill_owner", "drill_admin"):
            conn.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.pg_cluster
def test_restore_with_an_owner_login_that_is_no_superuser(cluster, separate_logins, tmp_path):
    """Production's shape: the tables belong to an owner login that is no superuser, the
    runtime login is another; both roles are gone when the restore starts, and it makes
    them again (passwords from the environment), restoring as the owner."""
    owner = backups.Login("drill_owner", "owner-pw", cluster.host, cluster.port, "drill_source")
    app = backups.Login("drill_app", "app-pw", cluster.host, cluster.port, "drill_copy")
    with cluster.connect() as conn:
        conn.execute("CREATE ROLE drill_owner LOGIN PASSWORD 'owner-pw'")
        conn.execute("CREATE ROLE drill_app LOGIN NOINHERIT PASSWORD 'app-pw'")
        conn.execute("CREATE DATABASE drill_source OWNER drill_owner")
    with owner.connect() as conn:
        conn.execute(SEPARATE_OWNER_SCHEMA)
    storage = EncryptedFileSystemStorage(location=tmp_path / "media")
    storage.save("uploads/one.csv", io.BytesIO(b"participant_id\nP1\n"))
    keyring = backups.backup_keyring(_key("b1"))
    result = backups.make_backup(
        tmp_path / "backup.bpijbak", owner=owner, storage=storage, app_role="drill_app",
        keyring=keyring,
    )  # fmt: skip
    assert (result.tables, result.rows, result.files) == (2, 13, 1)
    listed = backups.make_backup(
        tmp_path / "listed.bpijbak", owner=owner, storage=storage, app_role="drill_app",
        keyring=keyring, include_files=False,
    )  # fmt: skip
    assert listed.files == 1
    names = [member.name for member, _ in backups._members(listed.path, keyring)]
    assert names == ["manifest.json", "roles.sql", "grants.sql", "database.dump", "files.json"]
    with cluster.connect() as conn:
        conn.execute("DROP DATABASE drill_source")
        conn.execute("DROP ROLE drill_app")
        conn.execute("DROP ROLE drill_owner")

    restored_storage = EncryptedFileSystemStorage(location=tmp_path / "restored")
    outcome = backups.restore(
        result.path, admin=cluster, dbname="drill_copy", storage=restored_storage,
        keyring=keyring, passwords={"drill_app": "app-pw"}, owner_password="owner-pw",
        runtime=app, encryption_key_ids={"dev"}, legacy_pii_key=False,
    )  # fmt: skip
    assert (outcome.tables, outcome.rows, outcome.policies, outcome.triggers) == (2, 13, 1, 1)
    assert outcome.warnings == []
    assert restored_storage.open("uploads/one.csv").read() == b"participant_id\nP1\n"

    with cluster.connect() as conn:
        roles = {
            name: tuple(flags)
            for name, *flags in conn.execute(
                "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcanlogin "
                "FROM pg_roles WHERE rolname LIKE 'drill\\_%'"
            )
        }
        assert roles == {
            "drill_owner": (False, False, False, True),
            "drill_app": (False, False, False, True),
        }
    with cluster.connect("drill_copy") as conn:
        owners = conn.execute(
            "SELECT DISTINCT relowner::regrole::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        ).fetchall()
    # Restored as the owner (the database too), and its password is the environment's.
    with owner.to("drill_copy").connect() as conn:
        database_owner = conn.execute(
            "SELECT datdba::regrole::text FROM pg_database WHERE datname = 'drill_copy'"
        ).fetchone()
    assert database_owner == ("drill_owner",)
    assert owners == [("drill_owner",)]
    assert _visible(app, "thing") == 0
    assert _visible(app, "thing", "list", "1") == 4
    assert _visible(app, "thing", "all") == 12
    with app.connect() as conn:
        assert conn.execute("SELECT look_up(2)").fetchone() == (4,)
        with pytest.raises(psycopg.errors.RaiseException, match="append only"):
            conn.execute("DELETE FROM log")
        # The default privileges came back: a table the owner makes later is the app's too.
    with owner.to("drill_copy").connect() as conn:
        conn.execute("CREATE TABLE later (id int)")
    with app.connect() as conn:
        assert conn.execute("SELECT count(*) FROM later").fetchone() == (0,)

    # Roles and grants may be applied again (they are idempotent), and a second restore
    # into the database, now in use, is refused.
    opened = backups.open_archive(result.path, tmp_path, keyring)
    with cluster.connect() as conn:
        conn.execute("ALTER ROLE drill_app CREATEDB")
        backups._run_script(conn, opened.roles_sql)
        widened = conn.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'drill_app'")
        assert widened.fetchone() == (False,)
        conn.execute("CREATE ROLE drill_admin LOGIN CREATEROLE PASSWORD 'admin-pw'")
    # A managed service's administrator (CREATEROLE, no superuser) may run it too, once
    # the roles are as they should be.
    managed = backups.Login("drill_admin", "admin-pw", cluster.host, cluster.port, "postgres")
    with managed.connect() as conn:
        backups._run_script(conn, opened.roles_sql)
    with cluster.connect("drill_copy") as conn:
        backups._run_script(conn, opened.grants_sql)
    again = {
        "admin": cluster, "dbname": "drill_copy", "keyring": keyring, "passwords": {},
        "runtime": app, "encryption_key_ids": {"dev"}, "legacy_pii_key": False,
    }  # fmt: skip
    with pytest.raises(backups.BackupError, match="is not empty"):
        backups.restore(result.path, storage=restored_storage, **again)

    # A backup that lists the files without holding them: refused, before anything is
    # done, when the storage lacks them; restored over the database with --force when the
    # storage holds them as listed.
    empty = EncryptedFileSystemStorage(location=tmp_path / "empty")
    with pytest.raises(backups.BackupError, match=r"does not hold 1 of them.*Nothing was"):
        backups.restore(listed.path, storage=empty, force=True, **again)
    assert _visible(app, "later") == 0  # the database is as it was
    outcome = backups.restore(listed.path, storage=storage, force=True, **again)
    assert (outcome.files_restored, outcome.files_verified, outcome.rows) == (0, 1, 13)
    with pytest.raises(psycopg.errors.UndefinedTable):
        _visible(app, "later")


@pytest.fixture
def object_store() -> Iterator[Callable[[str], object]]:
    """An S3-compatible server of the test's own (moto's), and encrypted storages on its
    buckets, as the S3 deployment stores files."""
    import boto3
    from moto.server import ThreadedMotoServer
    from storages.backends.s3 import S3Storage

    from bpij.storage import EncryptedStorageMixin

    class EncryptedS3Storage(EncryptedStorageMixin, S3Storage):
        pass

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"}
    client = boto3.client("s3", aws_access_key_id="test", aws_secret_access_key="test", **endpoint)

    def bucket(name: str):
        client.create_bucket(Bucket=name)
        return EncryptedS3Storage(
            bucket_name=name, access_key="test", secret_key="test", **endpoint
        )

    try:
        yield bucket
    finally:
        server.stop()


@pytest.mark.pg_cluster
def test_stored_files_back_up_and_restore_through_an_object_store(
    cluster, leaves_the_cluster_empty, object_store, db, tmp_path, settings
):
    """The files are read and written through the storage API only, so a deployment on
    S3 backs up and restores its bucket as the local disk does."""
    source = object_store("hub-files")
    originals = {
        "uploads/alpha/2024Q4/participants.csv": os.urandom(300_000),
        "exports/program-2024Q4.pdf": b"%PDF-1.7 the program summary",
    }
    for name, data in originals.items():
        source.save(name, io.BytesIO(data))
    owner = backups.Login.from_settings(
        {**connection.settings_dict, **settings.TEST_DATABASE_OWNER}
    )
    keyring = backups.backup_keyring(_key("b1"))
    result = backups.make_backup(
        tmp_path / "s3.bpijbak", owner=owner, storage=source, app_role=settings.DB_APP_ROLE,
        keyring=keyring,
    )  # fmt: skip
    assert result.files == 2

    target = object_store("hub-files-restored")
    runtime = backups.Login(
        settings.DB_APP_ROLE, "s3-app-pw", cluster.host, cluster.port, "s3_copy"
    )
    outcome = backups.restore(
        result.path, admin=cluster, dbname="s3_copy", storage=target, keyring=keyring,
        passwords={settings.DB_APP_ROLE: "s3-app-pw"}, runtime=runtime,
        encryption_key_ids={kid for kid, _ in settings.ENCRYPTION_KEYS},
        legacy_pii_key=False,
    )  # fmt: skip
    assert (outcome.files_restored, outcome.files_verified) == (2, 2)
    assert sorted(backups.walk_storage(target)) == sorted(originals)
    for name, data in originals.items():
        with target.open(name) as restored:
            assert restored.read() == data
        assert backups._hash_stored(target, name) == backups._hash_stored(source, name)
