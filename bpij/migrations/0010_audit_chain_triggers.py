"""Chain the audit log (see bpij.audit for the canonical form) and let the database, not
the writer, set each event's time and place in the chain.

On PostgreSQL a BEFORE INSERT trigger takes an advisory lock (held to the end of the
transaction, so concurrent writers queue), reads the head of the chain, and sets ``seq``,
``prev_hash``, ``at = clock_timestamp()`` and ``hash``, whatever the INSERT carried. It is
SECURITY DEFINER, owned by the login that runs migrations, so the runtime login needs no
more than INSERT and never superuser rights. A BEFORE TRUNCATE trigger joins the UPDATE
and DELETE one of 0002. Events written before this migration are chained in id order,
keeping their times.
"""

from django.db import migrations
from django.db.models import TextField
from django.db.models.functions import Cast

from bpij import audit

HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION bpij_audit_hash(e bpij_auditevent) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(json_build_array(
        'bpij-audit-v1', e.seq, e.uuid::text, (extract(epoch FROM e.at) * 1000000)::bigint,
        e.action, e.actor_id, e.actor_email, e.coalition_uuid::text, e.coalition_name,
        e.target, host(e.ip_address), e.user_agent, e.detail::text, e.prev_hash
    )::text, 'UTF8')), 'hex')
$$;
"""

BACKFILL = """
ALTER TABLE bpij_auditevent DISABLE TRIGGER bpij_auditevent_append_only;
DO $$
DECLARE
    event_id bigint;
    position bigint := 0;
    previous text := repeat('0', 64);
BEGIN
    FOR event_id IN SELECT id FROM bpij_auditevent ORDER BY id LOOP
        position := position + 1;
        UPDATE bpij_auditevent SET seq = position, prev_hash = previous WHERE id = event_id;
        UPDATE bpij_auditevent e SET hash = bpij_audit_hash(e) WHERE id = event_id
            RETURNING hash INTO previous;
    END LOOP;
END $$;
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE bpij_auditevent ENABLE TRIGGER bpij_auditevent_append_only;
"""

CHAIN_TRIGGER = """
CREATE OR REPLACE FUNCTION bpij_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({lock_key});
    SELECT seq, hash INTO head_seq, head_hash FROM bpij_auditevent ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(head_seq, 0) + 1;
    NEW.prev_hash := coalesce(head_hash, repeat('0', 64));
    NEW.at := clock_timestamp();
    NEW.hash := bpij_audit_hash(NEW);
    RETURN NEW;
END;
$$;
CREATE TRIGGER bpij_auditevent_chain
    BEFORE INSERT ON bpij_auditevent
    FOR EACH ROW EXECUTE FUNCTION bpij_audit_chain();
CREATE TRIGGER bpij_auditevent_no_truncate
    BEFORE TRUNCATE ON bpij_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION bpij_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS bpij_auditevent_no_truncate ON bpij_auditevent;
DROP TRIGGER IF EXISTS bpij_auditevent_chain ON bpij_auditevent;
DROP FUNCTION IF EXISTS bpij_audit_chain();
DROP FUNCTION IF EXISTS bpij_audit_hash(bpij_auditevent);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            (schema,) = cursor.fetchone()
        schema_editor.execute(HASH_FUNCTION)
        schema_editor.execute(BACKFILL)
        schema_editor.execute(
            CHAIN_TRIGGER.format(
                schema=schema_editor.quote_name(schema), lock_key=audit.ADVISORY_LOCK_KEY
            )
        )
        return
    # SQLite: the model chains new events in Python; chain the ones already there.
    events = apps.get_model("bpij", "AuditEvent").objects
    previous = audit.GENESIS
    for position, event in enumerate(events.order_by("id"), start=1):
        events.filter(pk=event.pk).update(seq=position, prev_hash=previous)
        stored = (
            events.filter(pk=event.pk)
            .annotate(detail_text=Cast("detail", TextField()))
            .values(*audit.CHAIN_FIELDS)
            .get()
        )
        previous = audit.event_hash(stored)
        events.filter(pk=event.pk).update(hash=previous)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bpij", "0009_audit_chain_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
