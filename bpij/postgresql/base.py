"""PostgreSQL, carrying the tenant scope into every transaction (see bpij.tenancy).

The row-level security policies read the scope from two settings made with
``set_config(..., true)``, which last until the end of the transaction and no longer. So
the scope is written again at the start of every transaction, and a statement run in
autocommit mode while a scope is held gets a transaction of its own to carry it. Nothing
is ever set on the session: a server connection that a transaction-pooling PgBouncer
hands to the next client carries no one's scope, and a forgotten scope fails closed.
"""

from typing import Any

from django.db import transaction
from django.db.backends.postgresql import base
from psycopg import pq

SET_SCOPE = "SELECT set_config('bpij.scope', %s, true), set_config('bpij.coalitions', %s, true)"


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (scope, comma-separated coalition ids), or None: no tenant rows at all.
        self.tenant_scope: tuple[str, str] | None = None
        # First in the list, so outermost: it sees every statement Django runs.
        self.execute_wrappers.insert(0, self._scoped_statement)

    def set_tenant_scope(self, scope: tuple[str, str] | None) -> tuple[str, str] | None:
        """Hold the connection to ``scope`` from now on; return the scope it replaces."""
        previous, self.tenant_scope = self.tenant_scope, scope
        if self.in_atomic_block and self._transaction_usable():
            self._write_scope()
        return previous

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]
        # Leaving autocommit is where every transaction Django opens begins.
        if not autocommit and self.tenant_scope is not None:
            self._write_scope()

    def _transaction_usable(self) -> bool:
        if self.connection is None or self.needs_rollback:
            return False
        return self.connection.info.transaction_status != pq.TransactionStatus.INERROR

    def _write_scope(self) -> None:
        scope, coalitions = self.tenant_scope or ("", "")
        with self.wrap_database_errors, self.connection.cursor() as cursor:
            cursor.execute(SET_SCOPE, [scope, coalitions])

    def _scoped_statement(self, execute, sql, params, many, context):
        if self.tenant_scope is None or self.in_atomic_block or not self.get_autocommit():
            return execute(sql, params, many, context)
        with transaction.atomic(using=self.alias):
            return execute(sql, params, many, context)
