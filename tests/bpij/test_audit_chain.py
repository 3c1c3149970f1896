"""The audit log is a hash chain the database writes: each event carries the hash of its
content and of the event before it, the database sets its time, and `audit_verify`
names the first link that does not hold."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from bpij import audit, auditing, services, tenancy
from bpij.models import AuditAction, AuditEvent
from tests import database


def record(n: int = 1, **fields) -> list[AuditEvent]:
    return [
        services.audit_record(action=AuditAction.LOGOUT, target=f"event {i}", **fields)
        for i in range(n)
    ]


def verify(*args: str) -> str:
    out: list[str] = []
    call_command("audit_verify", *args, stdout=type("Out", (), {"write": out.append})())
    return "".join(out)


def tamper(sql: str, params: list) -> None:
    """Change the log as someone with the owner's rights could: lift the append-only
    trigger, write, put it back. The runtime login may do none of this, so the tests that
    tamper commit their events and tamper as the owner."""
    with database.owner_login(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE bpij_auditevent DISABLE TRIGGER bpij_auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE bpij_auditevent ENABLE TRIGGER bpij_auditevent_append_only")


def test_each_event_carries_the_hash_of_its_content_and_of_the_event_before_it(db):
    first, second, third = record(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    for stored in AuditEvent.objects.chain():
        assert stored["hash"] == audit.event_hash(stored)


def test_python_recomputes_the_databases_hash_exactly_whatever_the_content(cast):
    where = auditing.AuditContext(ip_address="2001:0db8:0000::0001", user_agent="UA ☃")
    with auditing.bound(where):
        services.audit_record(
            action=AuditAction.ROLE_CHANGED,
            actor=cast.admin_a,
            coalition=cast.coalition_a,
            target='Zoë "quoted" \\ back\tslash\nnew line \x01 ✓ 中文',
            detail={
                "zz": [1, 2.5, 1e-7, 10**20, None, True],
                "a": {"nested": "é", "b": ""},
                "longer key": "x",
                "": 0,
            },
        )
    (stored,) = AuditEvent.objects.chain()
    assert stored["hash"] == audit.event_hash(stored)
    assert "Audit chain verified: 1 event(s)" in verify()


def test_the_database_sets_the_time_whatever_the_writer_sent(db):
    before = timezone.now()
    event = AuditEvent.objects.create(
        action=AuditAction.LOGOUT, at=datetime(2001, 1, 1, tzinfo=UTC), seq=99, hash="f" * 64
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert before - timedelta(seconds=5) < stored.at < timezone.now() + timedelta(seconds=5)
    assert event.at == stored.at
    assert (stored.seq, stored.hash) == (1, audit.event_hash(AuditEvent.objects.chain().get()))


def test_the_database_refuses_truncate(transactional_db):
    record(1)
    # The runtime login has no TRUNCATE privilege at all; the owner has, and the trigger
    # refuses it.
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE bpij_auditevent CASCADE")
    with (
        database.owner_login(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE bpij_auditevent CASCADE")
    assert AuditEvent.objects.count() == 1


def test_the_runtime_role_writes_to_the_chain_without_more_rights_than_insert(cast):
    assert tenancy.rls_enabled()
    record(1)
    with tenancy.database_scope(tenancy.Scope(tenancy.SCOPE_NONE)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone() == (False,)
        event = services.audit_record(action=AuditAction.LOGOUT, actor=cast.viewer_a)
    assert event.seq == 2
    assert "Audit chain verified: 2 event(s)" in verify()


def test_audit_verify_says_how_many_events_verified(db):
    assert "Audit chain verified: 0 event(s)" in verify()
    *_, last = record(4)
    assert verify().strip() == f"Audit chain verified: 4 event(s). Head: seq 4, hash {last.hash}."


def test_audit_verify_names_an_event_whose_content_was_changed(transactional_db):
    _, victim, _ = record(3)
    tamper("UPDATE bpij_auditevent SET target = 'nothing to see' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"event id {victim.pk} (uuid {victim.uuid}, seq 2" in message
    assert "its content does not match its hash" in message
    assert "1 event(s) before it verified" in message


def test_audit_verify_names_an_event_whose_time_was_changed(transactional_db):
    victim, _ = record(2)
    tamper(
        "UPDATE bpij_auditevent SET at = at - interval '1 microsecond' WHERE id = %s",
        [victim.pk],
    )
    with pytest.raises(CommandError, match=f"uuid {victim.uuid}, seq 1.*content does not match"):
        verify()


def test_audit_verify_names_the_link_after_a_deleted_event(transactional_db):
    _, deleted, after, _ = record(4)
    tamper("DELETE FROM bpij_auditevent WHERE id = %s", [deleted.pk])
    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"event id {after.pk} (uuid {after.uuid}, seq 3" in message
    assert "seq 2 deleted?" in message


def test_audit_verify_names_an_event_rehashed_after_the_one_before_it_was_deleted(transactional_db):
    # Renumbering and rehashing one event is not enough: its prev_hash still names the
    # deleted event.
    _, deleted, after = record(3)
    tamper("DELETE FROM bpij_auditevent WHERE id = %s", [deleted.pk])
    tamper("UPDATE bpij_auditevent SET seq = 2 WHERE id = %s", [after.pk])
    tamper("UPDATE bpij_auditevent e SET hash = bpij_audit_hash(e) WHERE id = %s", [after.pk])
    with pytest.raises(CommandError, match=f"uuid {after.uuid}.*prev_hash"):
        verify()


def test_audit_verify_with_a_kept_head_notices_events_cut_from_the_end(transactional_db):
    *_, head = record(3)
    kept = f"{head.seq}:{head.hash}"
    assert "verified: 3 event(s)" in verify("--anchor", kept)
    tamper("DELETE FROM bpij_auditevent WHERE id = %s", [head.pk])
    assert "verified: 2 event(s)" in verify()
    with pytest.raises(CommandError, match="ends at seq 2, before the anchor's seq 3"):
        verify("--anchor", kept)


def test_audit_verify_with_a_kept_head_notices_a_rewritten_chain(transactional_db):
    first, second = record(2)
    kept = f"{second.seq}:{second.hash}"
    tamper("UPDATE bpij_auditevent SET target = 'rewritten' WHERE id = %s", [first.pk])
    for event in (first, second):
        tamper("UPDATE bpij_auditevent e SET hash = bpij_audit_hash(e) WHERE id = %s", [event.pk])
        if event is first:
            tamper(
                "UPDATE bpij_auditevent SET prev_hash = (SELECT hash FROM bpij_auditevent "
                "WHERE id = %s) WHERE id = %s",
                [first.pk, second.pk],
            )
    assert "verified: 2 event(s)" in verify()
    with pytest.raises(CommandError, match="the chain was rewritten"):
        verify("--anchor", kept)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    writers, events_each = 6, 8
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(events_each):
                # Each in its own transaction, held a moment after the insert, so the
                # writers overlap for real.
                with transaction.atomic():
                    services.audit_record(action=AuditAction.LOGOUT, target=f"{n}-{i}")
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.005)")
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * events_each + 1))
    assert f"Audit chain verified: {writers * events_each} event(s)" in verify()


EMBEDDED_WRITERS = """
import threading
from datetime import UTC, datetime
from bpij import services
from bpij.models import AuditAction, AuditEvent

def write(n):
    for i in range(5):
        services.audit_record(
            action=AuditAction.LOGOUT, target=f"{n}-{i} Zoë", detail={"é": [n, 1.5]}
        )

threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
written = AuditEvent.objects.create(action=AuditAction.LOGOUT, at=datetime(2001, 1, 1, tzinfo=UTC))
print(written.seq, written.at.year)
"""


def test_the_embedded_default_chains_in_python_and_verifies_the_same_way(tmp_path):
    import os
    import sqlite3
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bpij.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "REDIS_URL": "",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], env=env, capture_output=True, text=True
        )

    assert manage("migrate", "-v0").returncode == 0
    written = manage("shell", "-v0", "-c", EMBEDDED_WRITERS)
    assert written.stdout.split() == ["21", str(timezone.now().year)], written.stderr
    verified = manage("audit_verify")
    assert (verified.returncode, verified.stdout.split(":")[0]) == (0, "Audit chain verified")
    assert "21 event(s)" in verified.stdout
    with sqlite3.connect(tmp_path / "embedded.sqlite3") as database:
        database.execute("UPDATE bpij_auditevent SET target = 'rewritten' WHERE seq = 7")
    broken = manage("audit_verify")
    assert broken.returncode == 1
    assert "seq 7" in broken.stderr
    assert "content does not match its hash" in broken.stderr
