from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION bpij_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: entries are never changed or deleted.';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bpij_auditevent_append_only
    BEFORE UPDATE OR DELETE ON bpij_auditevent
    FOR EACH ROW EXECUTE FUNCTION bpij_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS bpij_auditevent_append_only ON bpij_auditevent;
DROP FUNCTION IF EXISTS bpij_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    """Refuse UPDATE and DELETE on the audit log underneath the ORM (PostgreSQL only;
    on SQLite the model and queryset refuse them)."""

    dependencies = [("bpij", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
