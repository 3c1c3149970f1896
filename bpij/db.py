"""Migration operations for row-level security on PostgreSQL (no-ops elsewhere).

See bpij.tenancy for how requests and tasks take on the scope these policies read.
"""

from django.conf import settings
from django.db import migrations

VISIBLE_FUNCTION = """
CREATE OR REPLACE FUNCTION bpij_visible(coalition bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('bpij.scope', true), '') = 'all'
        OR (coalesce(current_setting('bpij.scope', true), '') = 'list'
            AND coalition = ANY (string_to_array(
                nullif(current_setting('bpij.coalitions', true), ''), ',')::bigint[]))
$$;
"""


class CreateApplicationRole(migrations.operations.base.Operation):
    """The role requests run as: it may read and write every table but owns none, so
    the tenant tables' policies hold it. Later tables get the same grants by default."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql" or not settings.DB_APP_ROLE:
            return
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        schema_editor.execute(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{settings.DB_APP_ROLE}')
                THEN CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS;
                END IF;
            END $$;
            GRANT {role} TO CURRENT_USER;
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public
                GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
            {VISIBLE_FUNCTION}
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql" or not settings.DB_APP_ROLE:
            return
        schema_editor.execute("DROP FUNCTION IF EXISTS bpij_visible(bigint);")

    def describe(self):
        return "Create the application role and the bpij_visible() policy function"


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Hold the application role to the rows of the coalitions in its scope."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, column: str = "coalition_id"):
        self.table = table
        self.column = column

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql" or not settings.DB_APP_ROLE:
            return
        table = schema_editor.quote_name(self.table)
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        check = f"bpij_visible({schema_editor.quote_name(self.column)})"
        schema_editor.execute(
            f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_scope ON {table} TO {role} USING ({check}) WITH CHECK ({check});
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql" or not settings.DB_APP_ROLE:
            return
        table = schema_editor.quote_name(self.table)
        schema_editor.execute(
            f"DROP POLICY IF EXISTS tenant_scope ON {table}; "
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        )

    def describe(self):
        return f"Enable row-level security on {self.table}"
