"""Migration operations for row-level security on PostgreSQL (no-ops elsewhere).

See bpij.tenancy for the scope these policies read and how requests and tasks carry it.
Migrations run as the owner login (DATABASE_OWNER_URL), which owns every table; the
runtime login, settings.DB_APP_ROLE, is created beforehand by whoever holds the cluster
(docker/db-init.sh, the test set-up) and gets only what these operations grant it.
"""

from typing import Any

from django.conf import settings
from django.db import migrations

# The scope rule of bpij.tenancy.Scope, read the same way: 'all' and 'system' see every
# row, 'aggregates' every row of a table about no one, 'list' the listed coalitions' rows,
# anything else (no scope at all included) nothing. The one-argument form is what the
# first policies called; it now reads its table as one about people.
VISIBLE_FUNCTION = """
CREATE OR REPLACE FUNCTION bpij_visible(coalition bigint, aggregate boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('bpij.scope', true), '')
        WHEN 'all' THEN true
        WHEN 'system' THEN true
        WHEN 'aggregates' THEN aggregate
        WHEN 'list' THEN coalesce(coalition = ANY (string_to_array(
            nullif(current_setting('bpij.coalitions', true), ''), ',')::bigint[]), false)
        ELSE false
    END
$$;
CREATE OR REPLACE FUNCTION bpij_visible(coalition bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT bpij_visible(coalition, false) $$;
"""


def _on(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql" and bool(settings.DB_APP_ROLE)


class CreateApplicationRole(migrations.operations.base.Operation):
    """The role requests run as: it may read and write every table but owns none, so
    the tenant tables' policies hold it. Later tables get the same grants by default.

    Creates the role (without login) only where it does not exist yet; a deployment
    creates the runtime login itself, with its password, before migrating."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _on(schema_editor):
            return
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        schema_editor.execute(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{settings.DB_APP_ROLE}')
                THEN CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS;
                END IF;
            END $$;
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
        if not _on(schema_editor):
            return
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS bpij_visible(bigint); "
            "DROP FUNCTION IF EXISTS bpij_visible(bigint, boolean);"
        )

    def describe(self):
        return "Create the application role and the bpij_visible() policy function"


class LeastPrivilegeRuntime(migrations.operations.base.Operation):
    """Take from the runtime login what it never needs: creating objects, TRUNCATE,
    REFERENCES and TRIGGER on any table, writing the migration history. Its grants stay
    SELECT, INSERT, UPDATE, DELETE (the audit log's triggers refuse the last two there).
    """

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _on(schema_editor):
            return
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        schema_editor.execute(
            f"""
            {VISIBLE_FUNCTION}
            DO $$ BEGIN
                REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'schema public is not the owner''s: CREATE left as it is';
            END $$;
            REVOKE CREATE ON SCHEMA public FROM {role};
            REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role};
            REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role};
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return "Take from the runtime login every privilege it does not use"


class CreatePersonCoalitions(migrations.operations.base.Operation):
    """bpij_person_coalitions(user id): a person's memberships and coach assignments,
    which decide their scope and so must be read before any scope is held. SECURITY
    DEFINER (it runs as the owner, which the policies do not hold) and executable by the
    runtime login alone; it reads these two tables and nothing else."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _on(schema_editor):
            return
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION bpij_person_coalitions(person bigint)
            RETURNS TABLE (coalition_id bigint, role text, coached boolean)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
                SELECT m.coalition_id, m.role::text, false
                    FROM grantees_membership m WHERE m.user_id = person
                UNION ALL
                SELECT a.coalition_id, '', true
                    FROM grantees_coachassignment a WHERE a.coach_id = person
            $$;
            REVOKE ALL ON FUNCTION bpij_person_coalitions(bigint) FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION bpij_person_coalitions(bigint) TO {role};
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _on(schema_editor):
            schema_editor.execute("DROP FUNCTION IF EXISTS bpij_person_coalitions(bigint);")

    def describe(self):
        return "Create bpij_person_coalitions(), the scope's own look-up"


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Hold the application role to the rows its scope sees. ``aggregate``: the table's
    rows carry nothing about individual people (its QuerySet is ``funder_visible``), so
    the aggregates scope sees them all. Forwards replaces a policy already there."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, column: str = "coalition_id", aggregate: bool = False):
        self.table = table
        self.column = column
        self.aggregate = aggregate

    def deconstruct(self):
        kwargs: dict[str, Any] = {"column": self.column} if self.column != "coalition_id" else {}
        if self.aggregate:
            kwargs["aggregate"] = True
        return self.__class__.__name__, [self.table], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _on(schema_editor):
            return
        table = schema_editor.quote_name(self.table)
        role = schema_editor.quote_name(settings.DB_APP_ROLE)
        check = (
            f"bpij_visible({schema_editor.quote_name(self.column)}, "
            f"{'true' if self.aggregate else 'false'})"
        )
        schema_editor.execute(
            f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS tenant_scope ON {table};
            CREATE POLICY tenant_scope ON {table} TO {role} USING ({check}) WITH CHECK ({check});
            """
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _on(schema_editor):
            return
        table = schema_editor.quote_name(self.table)
        schema_editor.execute(
            f"DROP POLICY IF EXISTS tenant_scope ON {table}; "
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        )

    def describe(self):
        return f"Enable row-level security on {self.table}"


class RescopeRowLevelSecurity(EnableRowLevelSecurity):
    """Replace a table's policy with one that reads the aggregates scope; backwards puts
    back a policy that reads its table as one about people."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        EnableRowLevelSecurity(self.table, self.column).database_forwards(
            app_label, schema_editor, from_state, to_state
        )

    def describe(self):
        return f"Scope row-level security on {self.table} (aggregate={self.aggregate})"
