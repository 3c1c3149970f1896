"""Backups that restore into an empty cluster (docs/operations.md, "Backups and restore").

A backup is one file, encrypted as a whole under ``BACKUP_ENCRYPTION_KEY``, holding a
tar stream of:

    manifest.json   what the database held at the backup's moment: every table and its
                    row count, the row-level security policies, triggers and functions,
                    the roles, the applied migrations, the key ids SSNs and files are
                    sealed under, and the dump's size and SHA-256
    roles.sql       the roles the database needs (the owner, the runtime login
                    DB_APP_ROLE), idempotent and without passwords
    grants.sql      what those roles are granted (database, schema, tables, sequences,
                    functions, default privileges), idempotent
    database.dump   ``pg_dump --format=custom``, run as the owner login
    files/<name>    every stored file as the storage holds it (already encrypted at rest
                    under ENCRYPTION_KEYS), read through the storage API
    files.json      each stored file's name, size, SHA-256 and key id (written last:
                    the hashes are taken as the files stream in)

The dump, the counts and the list of stored files come from the same moment: one
connection exports a snapshot (REPEATABLE READ), ``pg_dump --snapshot`` dumps it and the
counts are read in it, and the storage is listed while it is held.

The archive's encryption is the STREAM construction over AES-256-GCM, as the stored files'
(bpij/storage.py), with a fresh key per archive derived by HKDF from the backup key and a
random salt, so no nonce is ever used twice under one key:

    header:  "BPIJBAK1" | key id length (1) | key id | salt (32) | nonce prefix (7)
             | chunk size (4, big-endian)
    body:    sealed chunks of ``chunk size`` plaintext bytes (+ 16-byte tag); the last
             chunk is always shorter than a full one (empty if need be); each chunk's nonce
             carries its number and whether it is the last, and its associated data is
             the header

so an archive is written and read in one pass, in constant memory, and a changed,
reordered, dropped or cut-off chunk fails loudly.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import struct
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg import sql

from bpij import keys
from bpij import storage as encrypted

FORMAT = "bpij-backup"
FORMAT_VERSION = 1
MAGIC = b"BPIJBAK1"
CHUNK = 1024 * 1024
TAG = 16
_SALT = 32
_PREFIX = 7
KEY_BYTES = keys.KEY_BYTES
SUFFIX = ".bpijbak"
_COPY = 1024 * 1024

MANIFEST = "manifest.json"
ROLES = "roles.sql"
GRANTS = "grants.sql"
DUMP = "database.dump"
FILES_DIR = "files/"
FILES_INDEX = "files.json"

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what is wrong and what to do."""


def _quiet(message: str) -> None:
    pass


# --- The backup key ------------------------------------------------------------------


def backup_keyring(value: str | None = None) -> list[tuple[str, bytes]]:
    """``BACKUP_ENCRYPTION_KEY``: ``id:base64-of-32-random-bytes``, comma-separated, the
    first current (it seals new backups), the others only open older ones."""
    value = (os.environ.get("BACKUP_ENCRYPTION_KEY", "") if value is None else value).strip()
    if not value:
        raise BackupError(
            "BACKUP_ENCRYPTION_KEY is not set: backups are encrypted under it. Make one with "
            '`python -c \'import os,base64;print("b1:"+base64.b64encode(os.urandom(32))'
            ".decode())'`, keep it in the secret store and in escrow (docs/operations.md, "
            '"Keys")'
        )
    return keys.parse_keyring(value, setting="BACKUP_ENCRYPTION_KEY", error=BackupError)


def _archive_cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=b"bpij/backup-archive"
    ).derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I?", index, last)


class SealingWriter:
    """A write-only stream that encrypts what it is given into ``out``, chunk by chunk.
    ``close()`` seals the last chunk; without it the archive does not open."""

    def __init__(self, out: IO[bytes], keyring: list[tuple[str, bytes]], chunk: int = CHUNK):
        kid, key = keyring[0]
        salt, self._prefix = os.urandom(_SALT), os.urandom(_PREFIX)
        self._header = b"".join(
            [MAGIC, bytes([len(kid)]), kid.encode(), salt, self._prefix, struct.pack(">I", chunk)]
        )
        self._cipher = _archive_cipher(key, salt)
        self._out = out
        self._chunk = chunk
        self._buffer = bytearray()
        self._index = 0
        self.closed = False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        # A full chunk is never the last one: the last is always shorter.
        while len(self._buffer) >= self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), last=False)
            del self._buffer[: self._chunk]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._out.write(self._cipher.encrypt(nonce, plain, self._header))
        self._index += 1

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._out.flush()
            self.closed = True


class OpeningReader:
    """The plaintext of an archive, decrypted and authenticated one chunk at a time."""

    def __init__(self, source: IO[bytes], keyring: list[tuple[str, bytes]]):
        self._source = source
        magic = encrypted.read_exactly(source, len(MAGIC))
        if magic != MAGIC:
            raise BackupError(
                "This is not a BPIJ backup (it does not start with BPIJBAK1): give the file "
                "`manage.py backup` wrote."
            )
        length = encrypted.read_exactly(source, 1)
        kid = encrypted.read_exactly(source, length[0] if length else 0)
        rest = encrypted.read_exactly(source, _SALT + _PREFIX + 4)
        if not length or len(rest) != _SALT + _PREFIX + 4:
            raise BackupError("The backup's header is cut short: the file is incomplete.")
        salt, self._prefix = rest[:_SALT], rest[_SALT : _SALT + _PREFIX]
        (self._chunk,) = struct.unpack(">I", rest[_SALT + _PREFIX :])
        self.kid = kid.decode()
        self._header = magic + length + kid + rest
        keys = dict(keyring)
        if self.kid not in keys:
            raise BackupError(
                f"The backup is sealed under backup key {self.kid!r}, which is not in "
                f"BACKUP_ENCRYPTION_KEY (it holds {', '.join(sorted(keys)) or 'none'}): put "
                "that key back from escrow, after the current one."
            )
        self._cipher = _archive_cipher(keys[self.kid], salt)
        self._index = 0
        self._plain = b""
        self._offset = 0
        self._done = False

    def _next(self) -> None:
        sealed = encrypted.read_exactly(self._source, self._chunk + TAG)
        last = len(sealed) < self._chunk + TAG
        try:
            if len(sealed) < TAG:
                raise InvalidTag
            self._plain = self._cipher.decrypt(
                _nonce(self._prefix, self._index, last), sealed, self._header
            )
        except InvalidTag:
            raise BackupError(
                f"The backup does not authenticate at chunk {self._index}: it was altered, "
                "cut short or sealed under another key with the same id. Nothing was restored "
                "from it; use another copy."
            ) from None
        self._index += 1
        self._done = last

    def read(self, size: int = -1) -> bytes:
        parts = []
        wanted = size if size is not None and size >= 0 else None
        while wanted is None or wanted > 0:
            if self._offset >= len(self._plain):
                if self._done:
                    break
                self._next()
                self._offset = 0
                continue
            end = len(self._plain) if wanted is None else self._offset + wanted
            take = self._plain[self._offset : end]
            self._offset += len(take)
            parts.append(take)
            if wanted is not None:
                wanted -= len(take)
        return b"".join(parts)

    def drain(self) -> None:
        """Read to the end, so the last chunk is authenticated too."""
        while self.read(_COPY):
            pass


# --- Logins --------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """Where and as whom to connect; ``dbname`` is the database."""

    user: str
    password: str | None
    host: str
    port: int
    dbname: str

    @classmethod
    def from_settings(cls, database: Mapping[str, Any]) -> Login:
        return cls(
            user=database.get("USER") or "",
            password=database.get("PASSWORD") or None,
            host=database.get("HOST") or "127.0.0.1",
            port=int(database.get("PORT") or 5432),
            dbname=database.get("NAME") or "",
        )

    @classmethod
    def from_url(cls, url: str) -> Login:
        import dj_database_url

        return cls.from_settings(dict(dj_database_url.parse(url)))

    def to(self, dbname: str) -> Login:
        return Login(self.user, self.password, self.host, self.port, dbname)

    def connect(self, dbname: str | None = None, *, autocommit: bool = True) -> psycopg.Connection:
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=dbname or self.dbname,
                autocommit=autocommit,
                connect_timeout=10,
            )
        except psycopg.OperationalError as error:
            raise BackupError(
                f"Cannot connect to {self.host}:{self.port}/{dbname or self.dbname} as "
                f"{self.user!r}: {str(error).strip()}"
            ) from error

    def environ(self) -> dict[str, str]:
        """The libpq environment for pg_dump and pg_restore (no password on a command line)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} is not installed: install PostgreSQL's client programs (Debian: "
        "postgresql-client), the same major version as the server or newer."
    )


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{detail}")


# --- What the database holds ---------------------------------------------------------

_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
)


@dataclass
class Catalog:
    """What a restore must bring back, read the same way from the source and the copy."""

    tables: dict[str, int] = field(default_factory=dict)
    rls_tables: list[str] = field(default_factory=list)
    forced_rls_tables: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "rls_tables": self.rls_tables,
            "forced_rls_tables": self.forced_rls_tables,
            "policies": self.policies,
            "triggers": self.triggers,
            "functions": self.functions,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        return cls(**{k: data[k] for k in cls().as_json()})


def _one(cursor: Any) -> tuple:
    row = cursor.fetchone()
    if row is None:
        raise BackupError("A catalog query returned no row.")
    return tuple(row)


def _rows(conn: psycopg.Connection, query: str, params: Any = None) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def read_catalog(conn: psycopg.Connection) -> Catalog:
    catalog = Catalog()
    tables = _rows(
        conn,
        f"""SELECT format('%I.%I', n.nspname, c.relname), c.relrowsecurity,
                   c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND {_USER_SCHEMAS} ORDER BY 1""",
    )
    for name, rls, forced in tables:
        catalog.tables[name] = _one(
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(name)))
        )[0]
        if rls:
            catalog.rls_tables.append(name)
        if forced:
            catalog.forced_rls_tables.append(name)
    catalog.policies = [
        row[0]
        for row in _rows(
            conn,
            """SELECT format('%I.%I %s %s to %s', schemaname, tablename, policyname, cmd,
                             array_to_string(roles, ','))
               FROM pg_policies ORDER BY 1""",
        )
    ]
    catalog.triggers = [
        row[0]
        for row in _rows(
            conn,
            f"""SELECT format('%I.%I %s enabled=%s', n.nspname, c.relname, t.tgname,
                              t.tgenabled)
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE NOT t.tgisinternal AND {_USER_SCHEMAS} ORDER BY 1""",
        )
    ]
    catalog.functions = [
        row[0]
        for row in _rows(
            conn,
            f"""SELECT format('%I.%I(%s)%s', n.nspname, p.proname,
                              pg_get_function_identity_arguments(p.oid),
                              CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END)
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE {_USER_SCHEMAS} ORDER BY 1""",
        )
    ]
    return catalog


def compare_catalogs(expected: Catalog, found: Catalog) -> list[str]:
    """What differs, one line each ("policies: 20 expected, 0 found; missing ...")."""
    problems = []
    for part in ("rls_tables", "forced_rls_tables", "policies", "triggers", "functions"):
        want, have = set(getattr(expected, part)), set(getattr(found, part))
        if want != have:
            missing, extra = sorted(want - have), sorted(have - want)
            line = f"{part.replace('_', ' ')}: {len(want)} expected, {len(have)} found"
            if missing:
                line += f"; missing {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}"
            if extra:
                line += f"; not in the backup {', '.join(extra[:5])}"
            problems.append(line)
    for table, rows in expected.tables.items():
        if table not in found.tables:
            problems.append(f"table {table} is missing")
        elif found.tables[table] != rows:
            problems.append(f"table {table}: {rows} rows expected, {found.tables[table]} found")
    for table in sorted(set(found.tables) - set(expected.tables)):
        problems.append(f"table {table} is not in the backup")
    return problems


def _needed_roles(conn: psycopg.Connection, app_role: str) -> list[str]:
    """Every role the database refers to: its owner, the owners of its objects, the roles
    granted privileges or named by a policy, and the runtime login."""
    rows = _rows(
        conn,
        f"""
        WITH refs(oid) AS (
            SELECT datdba FROM pg_database WHERE datname = current_database()
            UNION SELECT (aclexplode(datacl)).grantee FROM pg_database
                WHERE datname = current_database()
            UNION SELECT n.nspowner FROM pg_namespace n WHERE {_USER_SCHEMAS}
            UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE {_USER_SCHEMAS}
            UNION SELECT c.relowner FROM pg_class c JOIN pg_namespace n
                ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}
            UNION SELECT (aclexplode(c.relacl)).grantee FROM pg_class c JOIN pg_namespace n
                ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS}
            UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n
                ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS}
            UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p JOIN pg_namespace n
                ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS}
            UNION SELECT unnest(polroles) FROM pg_policy
            UNION SELECT defaclrole FROM pg_default_acl
            UNION SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl
        )
        SELECT r.rolname FROM refs JOIN pg_roles r ON r.oid = refs.oid
        WHERE r.rolname NOT LIKE 'pg\\_%' ORDER BY 1
        """,
    )
    names = [name for (name,) in rows]
    if app_role and app_role not in names:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role]).fetchone()
        if exists:
            names.append(app_role)
    return sorted(names)


def roles_sql(conn: psycopg.Connection, roles: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """Idempotent SQL that makes ``roles`` as they are here, with no password (the
    restore sets them from the environment); and the roles' attributes, for the manifest."""
    attributes = _rows(
        conn,
        """SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
                  rolreplication, rolbypassrls, rolconnlimit
           FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname""",
        [roles],
    )
    lines = [
        '-- The roles the BPIJ database needs (docs/security.md, "Database roles"), made',
        "-- by the cluster's superuser. Idempotent; no passwords: `manage.py restore` sets",
        "-- them from the environment, or run ALTER ROLE ... PASSWORD by hand.",
    ]
    described = []
    for (
        name,
        superuser,
        inherit,
        createrole,
        createdb,
        login,
        replication,
        bypass,
        limit,
    ) in attributes:
        flags = " ".join(
            [
                "SUPERUSER" if superuser else "NOSUPERUSER",
                "INHERIT" if inherit else "NOINHERIT",
                "CREATEROLE" if createrole else "NOCREATEROLE",
                "CREATEDB" if createdb else "NOCREATEDB",
                "LOGIN" if login else "NOLOGIN",
                "REPLICATION" if replication else "NOREPLICATION",
                "BYPASSRLS" if bypass else "NOBYPASSRLS",
                f"CONNECTION LIMIT {limit}",
            ]
        )
        literal, ident = _literal(name), _ident(name)
        lines += [
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) "
            f"THEN CREATE ROLE {ident} {flags}; END IF; END $$;",
        ]
        if not superuser:
            # Altered only where it differs: naming SUPERUSER, REPLICATION or BYPASSRLS in
            # ALTER ROLE needs a superuser, which a managed service's administrator is not.
            # A superuser that exists (the cluster's own) is left as it is.
            wanted = ", ".join(
                str(value).lower()
                for value in (inherit, createrole, createdb, login, replication, bypass)
            )
            lines.append(
                f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {literal} AND "
                "(rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, "
                f"rolbypassrls, rolconnlimit) IS DISTINCT FROM (false, {wanted}, {limit})) "
                f"THEN ALTER ROLE {ident} {flags}; END IF; END $$;"
            )
        described.append({"name": name, "superuser": superuser, "login": login})
    memberships = _rows(
        conn,
        """SELECT r.rolname, m.rolname FROM pg_auth_members a
           JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
           WHERE m.rolname = ANY(%s) ORDER BY 1, 2""",
        [roles],
    )
    for name, _superuser, *_ in attributes:
        if not _superuser:
            # Memberships as they are here, and no other (a member of no role has no one
            # to SET ROLE to).
            keep = [granted for granted, member in memberships if member == name]
            lines.append(
                "SELECT format('REVOKE %I FROM %I', r.rolname, "
                f"{_literal(name)}) FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
                f"WHERE a.member = {_literal(name)}::regrole"
                + (
                    f" AND r.rolname <> ALL(ARRAY[{', '.join(map(_literal, keep))}])"
                    if keep
                    else ""
                )
                + " \\gexec"
            )
    for granted, member in memberships:
        lines.append(f"GRANT {_ident(granted)} TO {_ident(member)};")
    return "\n".join(lines) + "\n", described


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def grants_sql(conn: psycopg.Connection, roles: list[str]) -> str:
    """Idempotent SQL that gives ``roles`` (and PUBLIC) what they hold in this database
    and nothing more: on the database itself, its schemas, tables, sequences and
    functions, and the default privileges for tables made later. Run it in the restored
    database; it names the database by current_database(), so the name may change."""
    lines = [
        "-- What the BPIJ roles are granted in the database; idempotent. Run connected to",
        "-- the restored database as the cluster's superuser (or the owner).",
    ]
    owner, datacl = _one(
        conn.execute(
            "SELECT datdba::regrole::text, datacl FROM pg_database "
            "WHERE datname = current_database()"
        )
    )
    lines.append(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), "
        f"{_literal(_unquote(owner))}); END $$;"
    )
    if datacl is not None:
        for grantee, privileges, grantable in _acl(
            conn, "datacl", "pg_database", "datname = current_database()"
        ):
            if grantee == _unquote(owner):
                continue
            lines.append(
                "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM "
                f"{_grantee_fmt(grantee)}', current_database()); "
                f"EXECUTE format('GRANT {privileges} ON DATABASE %I TO "
                f"{_grantee_fmt(grantee)}{' WITH GRANT OPTION' if grantable else ''}', "
                "current_database()); END $$;"
            )
    wanted = set(roles) | {"PUBLIC"}
    objects = _rows(
        conn,
        f"""SELECT 'SCHEMA', format('%I', n.nspname), n.nspowner::regrole::text, n.oid,
                   'pg_namespace', 'nspacl'
            FROM pg_namespace n WHERE {_USER_SCHEMAS} AND n.nspacl IS NOT NULL
            UNION ALL
            SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                   format('%I.%I', n.nspname, c.relname), c.relowner::regrole::text, c.oid,
                   'pg_class', 'relacl'
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {_USER_SCHEMAS} AND c.relacl IS NOT NULL
            UNION ALL
            SELECT 'FUNCTION', format('%I.%I(%s)', n.nspname, p.proname,
                                      pg_get_function_identity_arguments(p.oid)),
                   p.proowner::regrole::text, p.oid, 'pg_proc', 'proacl'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE {_USER_SCHEMAS} AND p.proacl IS NOT NULL
            ORDER BY 1, 2""",
    )
    for kind, name, owner_of, oid, table, column in objects:
        entries = _acl(conn, column, table, f"oid = {int(oid)}")
        holders = {g for g, _, _ in entries} | {"PUBLIC"}
        for grantee in sorted((holders & wanted) - {_unquote(owner_of)}):
            lines.append(f"REVOKE ALL ON {kind} {name} FROM {_grantee_sql(grantee)};")
        for grantee, privileges, grantable in entries:
            if grantee == _unquote(owner_of) or grantee not in wanted:
                continue
            lines.append(
                f"GRANT {privileges} ON {kind} {name} TO {_grantee_sql(grantee)}"
                f"{' WITH GRANT OPTION' if grantable else ''};"
            )
    kinds = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}
    for role, schema, objtype, acl_oid in _rows(
        conn,
        """SELECT d.defaclrole::regrole::text, d.defaclnamespace::regnamespace::text,
                  d.defaclobjtype, d.oid FROM pg_default_acl d ORDER BY 1, 2, 3""",
    ):
        in_schema = "" if schema == "-" else f" IN SCHEMA {schema}"
        for grantee, privileges, grantable in _acl(
            conn, "defaclacl", "pg_default_acl", f"oid = {int(acl_oid)}"
        ):
            if grantee == _unquote(role):
                continue
            lines.append(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {role}{in_schema} GRANT {privileges} ON "
                f"{kinds[objtype]} TO {_grantee_sql(grantee)}"
                f"{' WITH GRANT OPTION' if grantable else ''};"
            )
    return "\n".join(lines) + "\n"


def _unquote(regrole: str) -> str:
    return regrole[1:-1].replace('""', '"') if regrole.startswith('"') else regrole


def _grantee_sql(grantee: str) -> str:
    return "PUBLIC" if grantee == "PUBLIC" else _ident(grantee)


def _grantee_fmt(grantee: str) -> str:
    # Inside a format() string literal: quote for SQL, then double the single quotes.
    return _grantee_sql(grantee).replace("'", "''").replace("%", "%%")


def _acl(conn: psycopg.Connection, column: str, table: str, where: str) -> list[tuple]:
    """(grantee or PUBLIC, "SELECT, INSERT", grantable) per grantee of one ACL."""
    rows = _rows(
        conn,
        f"""SELECT coalesce(g.rolname, 'PUBLIC'), a.privilege_type, a.is_grantable
            FROM {table} o, aclexplode(o.{column}) a LEFT JOIN pg_roles g ON g.oid = a.grantee
            WHERE o.{where} ORDER BY 1, 2""",
    )
    grouped: dict[tuple[str, bool], list[str]] = {}
    for grantee, privilege, grantable in rows:
        grouped.setdefault((grantee, grantable), []).append(privilege)
    return [(g, ", ".join(p), grantable) for (g, grantable), p in grouped.items()]


# --- Stored files --------------------------------------------------------------------


def walk_storage(storage: Any, top: str = "") -> Iterator[str]:
    """Every file's name in a storage, through listdir (disk and object stores alike)."""
    try:
        directories, files = storage.listdir(top)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(top, name) if top else name
    for directory in sorted(directories):
        yield from walk_storage(storage, posixpath.join(top, directory) if top else directory)


def _raw_open(storage: Any, name: str) -> Any:
    """The file as the storage holds it: ciphertext for an encrypted storage."""
    if isinstance(storage, encrypted.EncryptedStorageMixin):
        return super(encrypted.EncryptedStorageMixin, storage)._open(name, "rb")  # type: ignore[misc]
    return storage.open(name, "rb")


def _raw_save(storage: Any, name: str, content: Any) -> str:
    """Store bytes as they are (already sealed), under exactly ``name``."""
    try:
        storage.path(name)
    except NotImplementedError:
        # An object store may seek and size what it uploads; a tar member read as a
        # stream does neither, so it is spooled first (to disk past 8 MiB).
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            shutil.copyfileobj(content, spool, _COPY)
            spool.seek(0)
            return _save_sealed(storage, name, spool)
    return _save_sealed(storage, name, content)


def _save_sealed(storage: Any, name: str, content: Any) -> str:
    from django.core.files.base import File

    wrapped = File(content, name=name)
    if isinstance(storage, encrypted.EncryptedStorageMixin):
        return super(encrypted.EncryptedStorageMixin, storage)._save(name, wrapped)  # type: ignore[misc]
    return storage._save(name, wrapped)


class _Hashing:
    """Reads through, keeping the SHA-256, the byte count and the first bytes."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.sha256.update(data)
        if len(self.head) < 512:
            self.head += data[: 512 - len(self.head)]
        self.size += len(data)
        return data


def _key_id_of(head: bytes) -> str | None:
    try:
        header = encrypted.read_header(io.BytesIO(head))
    except encrypted.EncryptedFileError:
        return "?"
    return header.kid if header else None


def _hash_stored(storage: Any, name: str) -> tuple[int, str, str | None]:
    with _raw_open(storage, name) as raw:
        reader = _Hashing(raw)
        while reader.read(_COPY):
            pass
    return reader.size, reader.sha256.hexdigest(), _key_id_of(reader.head)


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every FileField, to list the files the database refers to."""
    from django.apps import apps
    from django.db import models

    columns = []
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                columns.append((model._meta.db_table, model_field.column))
    return sorted(columns)


def _present(conn: psycopg.Connection, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (table, column) pairs the database has (a backup of a database migrated only
    part of the way, or of another schema, skips what it does not hold)."""
    return [
        (table, column)
        for table, column in columns
        if conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name = %s",
            [table, column],
        ).fetchone()
    ]


# The columns holding values sealed per value under ENCRYPTION_KEYS ("<key id>:…"), whose
# key ids a restore must hold (docs/security.md, "Keys and rotation").
SEALED_VALUE_FIELDS = [("reporting", "ParticipantRecord", "ssn_encrypted")]


def _ssn_columns() -> list[tuple[str, str]]:
    from django.apps import apps

    columns = []
    for app_label, model_name, field_name in SEALED_VALUE_FIELDS:
        model = apps.get_model(app_label, model_name)
        columns.append((model._meta.db_table, model._meta.get_field(field_name).column))
    return columns


# --- Backup --------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    tables: int
    rows: int
    files: int
    file_bytes: int
    missing_files: list[str]
    seconds: float
    key_id: str


def backup_name(dbname: str, when: datetime) -> str:
    return f"bpij-{dbname}-{when:%Y%m%dT%H%M%SZ}{SUFFIX}"


def make_backup(
    destination: Path,
    *,
    owner: Login,
    storage: Any,
    app_role: str,
    keyring: list[tuple[str, bytes]],
    include_files: bool = True,
    say: Say = _quiet,
) -> BackupResult:
    """Write one encrypted archive of the database (as ``owner``, which owns every table
    and so is not held by row-level security), its roles and grants, and the stored files.
    ``destination``: a directory (a dated name is made in it) or a file name."""
    started = time.monotonic()
    now = datetime.now(UTC)
    if destination.is_dir():
        destination = destination / backup_name(owner.dbname, now)
    if destination.exists():
        raise BackupError(f"{destination} exists already: give a new file name or a directory.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    pg_dump = pg_tool("pg_dump")
    with tempfile.TemporaryDirectory(prefix="bpij-backup-", dir=destination.parent) as work:
        dump_path = Path(work) / DUMP
        snapshot = owner.connect(autocommit=False)
        try:
            snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            _refuse_a_login_held_by_policies(snapshot)
            snapshot_id = _one(snapshot.execute("SELECT pg_export_snapshot()"))[0]
            say(f"Snapshot {snapshot_id} of {owner.dbname} taken; dumping…")
            manifest = _describe(snapshot, owner, app_role, now)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--no-password",
                 f"--file={dump_path}", owner.dbname],
                owner.environ(),
                "pg_dump",
            )  # fmt: skip
            roles_text, manifest["roles"] = roles_sql(snapshot, manifest["role_names"])
            grants_text = grants_sql(snapshot, manifest["role_names"])
            referenced = set()
            for table, column in _present(snapshot, _file_columns()):
                referenced |= {
                    name
                    for (name,) in snapshot.execute(
                        sql.SQL("SELECT DISTINCT {} FROM {} WHERE {} <> ''").format(
                            sql.Identifier(column), sql.Identifier(table), sql.Identifier(column)
                        )
                    )
                }
            # Listed while the snapshot is held: the files of the same moment.
            stored = list(walk_storage(storage))
        finally:
            snapshot.rollback()
            snapshot.close()
        missing = sorted(referenced - set(stored))
        manifest["files"] = {
            "included": include_files,
            "stored": len(stored),
            "referenced": len(referenced),
            "missing": missing,
        }
        manifest["dump"] = {
            "name": DUMP,
            "size": dump_path.stat().st_size,
            "sha256": _sha256_of(dump_path),
        }
        partial = destination.with_name(f".{destination.name}.partial")
        index: list[dict[str, Any]] = []
        try:
            with open(partial, "xb") as out:
                os.chmod(partial, 0o600)
                writer = SealingWriter(out, keyring)
                with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                    _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
                    _add_bytes(tar, ROLES, roles_text.encode())
                    _add_bytes(tar, GRANTS, grants_text.encode())
                    with open(dump_path, "rb") as dump:
                        info = tarfile.TarInfo(DUMP)
                        info.size = manifest["dump"]["size"]
                        info.mtime = int(now.timestamp())
                        tar.addfile(info, dump)
                    say(f"Database dumped ({info.size:,} bytes); {len(stored)} stored file(s)…")
                    vanished = []
                    for name in stored:
                        try:
                            index.append(_add_stored(tar, storage, name, include_files, now))
                        except Vanished:
                            # Deleted since it was listed (the nightly purge): skipped.
                            vanished.append(name)
                    _add_bytes(
                        tar,
                        FILES_INDEX,
                        json.dumps({"files": index, "vanished": vanished}, indent=1).encode(),
                    )
                writer.close()
                os.fsync(out.fileno())
            os.replace(partial, destination)
        finally:
            if partial.exists():
                partial.unlink()
    return BackupResult(
        path=destination,
        size=destination.stat().st_size,
        tables=len(manifest["catalog"]["tables"]),
        rows=sum(manifest["catalog"]["tables"].values()),
        files=len(index),
        file_bytes=sum(item["size"] for item in index),
        missing_files=sorted({*missing, *(set(vanished) & referenced)}),
        seconds=time.monotonic() - started,
        key_id=keyring[0][0],
    )


def _refuse_a_login_held_by_policies(conn: psycopg.Connection) -> None:
    """pg_dump as a login the policies hold would fail (or, with row_security on, miss
    rows): say which login to use instead."""
    user, unbound = _one(
        conn.execute(
            "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    )
    if unbound:
        return
    held = _rows(
        conn,
        f"""SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relrowsecurity AND {_USER_SCHEMAS}
              AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
            ORDER BY 1""",
    )
    if held:
        raise BackupError(
            f"{user!r} is held by the row-level security policies of {len(held)} table(s) "
            f"(e.g. {held[0][0]}), so a dump would miss their rows. Back up as the owner "
            'login: set DATABASE_OWNER_URL (docs/security.md, "Database roles"), or pass '
            "--owner-url."
        )


def _describe(conn: psycopg.Connection, owner: Login, app_role: str, now: datetime) -> dict:
    database, encoding, collate, ctype, db_owner = _one(
        conn.execute(
            """SELECT datname, pg_encoding_to_char(encoding), datcollate, datctype,
                  datdba::regrole::text
           FROM pg_database WHERE datname = current_database()"""
        )
    )
    catalog = read_catalog(conn)
    migrations = [
        f"{app}.{name}"
        for app, name in (
            conn.execute("SELECT app, name FROM django_migrations ORDER BY id")
            if _present(conn, [("django_migrations", "app")])
            else []
        )
    ]
    ssn_keys: set[str] = set()
    legacy = 0
    for table, column in _present(conn, _ssn_columns()):
        for kid, count in conn.execute(
            sql.SQL(
                "SELECT CASE WHEN position(':' in {c}) > 0 THEN split_part({c}, ':', 1) END, "
                "count(*) FROM {t} WHERE {c} <> '' GROUP BY 1"
            ).format(c=sql.Identifier(column), t=sql.Identifier(table))
        ):
            if kid is None:
                legacy += count
            else:
                ssn_keys.add(kid)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": now.isoformat(),
        "database": database,
        "server_version": _one(conn.execute("SHOW server_version"))[0],
        "encoding": encoding,
        "collate": collate,
        "ctype": ctype,
        "owner": _unquote(db_owner),
        "backed_up_as": owner.user,
        "app_role": app_role,
        "role_names": _needed_roles(conn, app_role),
        "catalog": catalog.as_json(),
        "migrations": migrations,
        "ssn_key_ids": sorted(ssn_keys),
        "ssn_legacy_values": legacy,
    }


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(_COPY), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


class Vanished(Exception):
    """A stored file deleted between the listing and its copy."""


def _add_stored(
    tar: tarfile.TarFile, storage: Any, name: str, include: bool, now: datetime
) -> dict[str, Any]:
    """Copy one stored file into the archive (or only hash it) and describe it. A file
    gone before its first byte is read raises Vanished, with nothing written."""
    try:
        raw = _raw_open(storage, name)
        size = raw.size
    except Exception:
        if storage.exists(name):
            raise
        raise Vanished(name) from None
    with raw:
        reader = _Hashing(raw)
        if include:
            info = tarfile.TarInfo(FILES_DIR + name)
            info.size = size
            info.mtime = int(now.timestamp())
            tar.addfile(info, reader)
        else:
            while reader.read(_COPY):
                pass
    return {
        "name": name,
        "size": reader.size,
        "sha256": reader.sha256.hexdigest(),
        "key_id": _key_id_of(reader.head),
    }


# --- Reading an archive --------------------------------------------------------------


@dataclass
class Opened:
    """An archive checked whole: its manifest, SQL, the dump extracted to ``dump``."""

    manifest: dict[str, Any]
    roles_sql: str
    grants_sql: str
    dump: Path
    files: list[dict[str, Any]]
    backup_key_id: str


def _members(path: Path, keyring: list[tuple[str, bytes]]) -> Iterator[tuple[tarfile.TarInfo, Any]]:
    with open(path, "rb") as source:
        reader = OpeningReader(source, keyring)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    if not member.isfile():
                        raise BackupError(f"Unexpected entry {member.name!r} in the backup.")
                    yield member, tar.extractfile(member)
        except tarfile.TarError as error:
            raise BackupError(f"The backup's contents do not read: {error}") from error
        reader.drain()


def open_archive(
    path: Path, work: Path, keyring: list[tuple[str, bytes]], say: Say = _quiet
) -> Opened:
    """Read the whole archive once, authenticating every chunk: the manifest and SQL in
    memory, the dump into ``work``, every stored file hashed against files.json.
    Nothing is restored from an archive that does not read to its end."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    manifest: dict[str, Any] | None = None
    texts: dict[str, str] = {}
    hashes: dict[str, tuple[int, str]] = {}
    index: list[dict[str, Any]] | None = None
    dump = work / DUMP
    with open(path, "rb") as peek:
        kid = OpeningReader(peek, keyring).kid
    for member, stream in _members(path, keyring):
        if member.name == MANIFEST:
            manifest = json.loads(stream.read())
            if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
                raise BackupError(
                    f"The backup is format {manifest.get('format')} v{manifest.get('version')}; "
                    f"this code reads {FORMAT} v{FORMAT_VERSION}."
                )
        elif member.name in (ROLES, GRANTS):
            texts[member.name] = stream.read().decode()
        elif member.name == DUMP:
            digest = hashlib.sha256()
            with open(dump, "wb") as out:
                while block := stream.read(_COPY):
                    digest.update(block)
                    out.write(block)
            if manifest is None or digest.hexdigest() != manifest["dump"]["sha256"]:
                raise BackupError("The database dump's SHA-256 differs from the manifest's.")
        elif member.name.startswith(FILES_DIR):
            reader = _Hashing(stream)
            while reader.read(_COPY):
                pass
            hashes[member.name[len(FILES_DIR) :]] = (reader.size, reader.sha256.hexdigest())
        elif member.name == FILES_INDEX:
            index = json.loads(stream.read())["files"]
        else:
            raise BackupError(f"Unexpected entry {member.name!r} in the backup.")
    if manifest is None or index is None or set(texts) != {ROLES, GRANTS} or not dump.exists():
        raise BackupError("The backup is incomplete (a part is missing): use another copy.")
    if manifest["files"]["included"]:
        listed = {item["name"]: (item["size"], item["sha256"]) for item in index}
        if listed != hashes:
            differing = sorted(set(listed.items()) ^ set(hashes.items()))
            raise BackupError(
                f"The stored files in the backup differ from its index: {differing[:3]}"
            )
    say(
        f"Backup read and authenticated: {manifest['database']} of {manifest['created_at']}, "
        f"{len(manifest['catalog']['tables'])} tables, "
        f"{sum(manifest['catalog']['tables'].values()):,} rows, {len(index)} stored file(s)."
    )
    return Opened(manifest, texts[ROLES], texts[GRANTS], dump, index, kid)


# --- Restore -------------------------------------------------------------------------


@dataclass
class RestoreResult:
    database: str
    tables: int
    rows: int
    policies: int
    triggers: int
    files_restored: int
    files_verified: int
    warnings: list[str]
    seconds: float
    migrations: list[str]


def key_problems(
    opened: Opened, *, encryption_key_ids: set[str], legacy_pii_key: bool
) -> list[str]:
    """Why the restored data would not decrypt with the keys this environment holds."""
    problems = []
    file_keys = {item["key_id"] for item in opened.files if item["key_id"] not in (None, "?")}
    if missing := sorted(file_keys - encryption_key_ids):
        problems.append(
            f"stored files are sealed under key id(s) {', '.join(missing)}, which "
            "ENCRYPTION_KEYS does not hold: downloads and re-checks would fail"
        )
    if missing := sorted(set(opened.manifest["ssn_key_ids"]) - encryption_key_ids):
        problems.append(
            f"SSNs are sealed under key id(s) {', '.join(missing)}, which ENCRYPTION_KEYS "
            "does not hold: they would not decrypt"
        )
    if opened.manifest["ssn_legacy_values"] and not legacy_pii_key:
        problems.append(
            f"{opened.manifest['ssn_legacy_values']} SSN(s) are sealed under the old "
            "PII_ENCRYPTION_KEY, which is not set"
        )
    return problems


def database_state(admin: Login, dbname: str) -> str:
    """'missing', 'empty' (no table, no function) or 'in use'."""
    with admin.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            return "missing"
    with admin.connect(dbname) as conn:
        count = _one(
            conn.execute(
                f"""SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n
                          ON n.oid = c.relnamespace WHERE {_USER_SCHEMAS})
                     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n
                          ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS})"""
            )
        )[0]
    return "empty" if count == 0 else "in use"


def storage_conflicts(opened: Opened, storage: Any) -> list[str]:
    """Names the storage already holds with other contents than the backup's."""
    conflicts = []
    for item in opened.files:
        if storage.exists(item["name"]):
            _size, digest, _ = _hash_stored(storage, item["name"])
            if digest != item["sha256"]:
                conflicts.append(item["name"])
    return conflicts


def restore(
    path: Path,
    *,
    admin: Login,
    dbname: str,
    storage: Any,
    keyring: list[tuple[str, bytes]],
    passwords: dict[str, str],
    runtime: Login | None,
    owner_password: str | None = None,
    encryption_key_ids: set[str],
    legacy_pii_key: bool,
    force: bool = False,
    ignore_keys: bool = False,
    jobs: int = 1,
    say: Say = _quiet,
) -> RestoreResult:
    """Restore a backup into ``dbname`` on ``admin``'s cluster, which may be new and empty:
    roles (passwords from ``passwords``), the database, its contents, grants; then count
    policies, triggers and rows against the manifest, see that the runtime login is held
    by the policies, and put the stored files back, checking each one's hash."""
    started = time.monotonic()
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bpij-restore-") as work:
        opened = open_archive(path, Path(work), keyring, say)
        manifest = opened.manifest
        problems = key_problems(
            opened, encryption_key_ids=encryption_key_ids, legacy_pii_key=legacy_pii_key
        )
        if problems and not ignore_keys:
            raise BackupError(
                "The keys in this environment cannot open the backup's data: "
                + "; ".join(problems)
                + '. Put the keys back from escrow (docs/operations.md, "Keys"), or pass '
                "--ignore-keys to restore anyway."
            )
        warnings += problems
        state = database_state(admin, dbname)
        if state == "in use" and not force:
            raise BackupError(
                f"Database {dbname!r} on {admin.host}:{admin.port} is not empty: restore "
                "into an empty cluster or database, or pass --force to drop it and replace it "
                "with the backup."
            )
        if not manifest["files"]["included"]:
            absent = files_not_as_listed(opened, storage)
            if absent:
                raise BackupError(
                    f"This backup lists {len(opened.files)} stored file(s) without holding "
                    f"them, and the storage does not hold {len(absent)} of them as listed "
                    f"({'; '.join(absent[:3])}): restore the storage from its own copy "
                    "(bucket versioning, replication) first. Nothing was restored."
                )
        else:
            conflicts = storage_conflicts(opened, storage)
            if conflicts and not force:
                raise BackupError(
                    f"The storage already holds {len(conflicts)} file(s) under the backup's "
                    f"names with other contents (e.g. {conflicts[0]}): restore into an empty "
                    "storage, or pass --force to replace them."
                )
        owner = manifest["owner"]
        if owner_password and owner not in passwords:
            passwords = {**passwords, owner: owner_password}
        say(f"Roles: {', '.join(manifest['role_names'])}…")
        with admin.connect("postgres") as conn:
            _run_script(conn, opened.roles_sql)
            for role in manifest["role_names"]:
                if role == admin.user:
                    continue
                if role in passwords:
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(role), sql.Literal(passwords[role])
                        )
                    )
                elif any(r["name"] == role and r["login"] for r in manifest["roles"]):
                    warnings.append(
                        f"no password for the login {role!r} in the environment (set it in "
                        "DATABASE_URL / DATABASE_OWNER_URL or BPIJ_DB_APP_PASSWORD / "
                        "BPIJ_DB_OWNER_PASSWORD, or ALTER ROLE … PASSWORD by hand)"
                    )
            if state == "in use":
                say(f"Dropping the database {dbname!r} (--force)…")
                conn.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname))
                )
                state = "missing"
            if state == "missing":
                create = sql.SQL(
                    "CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING {}"
                ).format(
                    sql.Identifier(dbname), sql.Identifier(owner), sql.Literal(manifest["encoding"])
                )
                try:
                    # The backup's locale, so text sorts as it did; the cluster's when the
                    # server's system lacks it (a warning below says so).
                    conn.execute(
                        create
                        + sql.SQL(" LC_COLLATE {} LC_CTYPE {}").format(
                            sql.Literal(manifest["collate"]), sql.Literal(manifest["ctype"])
                        )
                    )
                except psycopg.Error:
                    conn.execute(create)
            else:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(dbname), sql.Identifier(owner)
                    )
                )
        with admin.connect() as conn:
            collate, ctype = _one(
                conn.execute(
                    "SELECT datcollate, datctype FROM pg_database WHERE datname = %s", [dbname]
                )
            )
        if (collate, ctype) != (manifest["collate"], manifest["ctype"]):
            warnings.append(
                f"the database's locale is {collate}/{ctype}, the backup's "
                f"{manifest['collate']}/{manifest['ctype']}: text sorts by the new one"
            )
        say(f"pg_restore into {dbname!r} as {owner!r}…")
        command = [pg_tool("pg_restore"), f"--dbname={dbname}", "--exit-on-error", "--no-password"]
        command += ["--single-transaction"] if jobs <= 1 else [f"--jobs={jobs}"]
        if admin.user != owner:
            command.append(f"--role={owner}")
        _run([*command, str(opened.dump)], admin.environ(), "pg_restore")
        with admin.connect(dbname) as conn:
            _run_script(conn, opened.grants_sql)
            if admin.user != owner:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
            conn.execute("ANALYZE")
            found = read_catalog(conn)
        expected = Catalog.from_json(manifest["catalog"])
        differences = compare_catalogs(expected, found)
        if differences:
            raise BackupError(
                f"The restored database {dbname!r} differs from the backup:\n  "
                + "\n  ".join(differences)
            )
        say(
            f"Database restored: {len(found.tables)} tables, {sum(found.tables.values()):,} "
            f"rows, {len(found.policies)} row-level security policies, "
            f"{len(found.triggers)} triggers, as in the backup."
        )
        if runtime is not None:
            check_runtime(runtime.to(dbname), manifest, expected)
            say(f"The runtime login {runtime.user!r} connects and is held by the policies.")
        else:
            warnings.append("no runtime login configured: its access was not checked")
        restored, verified = _restore_files(path, opened, storage, keyring, say)
    return RestoreResult(
        database=dbname,
        tables=len(found.tables),
        rows=sum(found.tables.values()),
        policies=len(found.policies),
        triggers=len(found.triggers),
        files_restored=restored,
        files_verified=verified,
        warnings=warnings,
        seconds=time.monotonic() - started,
        migrations=manifest["migrations"],
    )


def _run_script(conn: psycopg.Connection, script: str) -> None:
    """Run roles.sql or grants.sql: plain statements, and psql's ``\\gexec`` lines (a
    query whose rows are statements)."""
    with conn.transaction():
        for statement in _statements(script):
            if statement.endswith("\\gexec"):
                for (generated,) in conn.execute(statement[: -len("\\gexec")]).fetchall():
                    conn.execute(generated)
            else:
                conn.execute(statement)


def _statements(script: str) -> Iterator[str]:
    for line in script.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            yield line


def check_runtime(runtime: Login, manifest: dict[str, Any], expected: Catalog) -> None:
    """The runtime login connects, is none of what the policies let go, sees no tenant
    row without a scope and every row with the 'all' scope."""
    with runtime.connect(autocommit=False) as conn:
        user, superuser, bypass = _one(
            conn.execute(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
        )
        if manifest["app_role"] and user != manifest["app_role"]:
            raise BackupError(
                f"DATABASE_URL logs in as {user!r}, but the backup's runtime role is "
                f"{manifest['app_role']!r} (DB_APP_ROLE): the policies would not hold it."
            )
        if superuser or bypass:
            raise BackupError(f"The runtime login {user!r} is a superuser or BYPASSRLS.")
        leaking = []
        for table in expected.rls_tables:
            visible = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table)))
            if _one(visible)[0]:
                leaking.append(table)
        if leaking:
            raise BackupError(
                f"Without a scope the runtime login sees rows of {', '.join(leaking)}: "
                "row-level security is not in force."
            )
        conn.execute("SELECT set_config('bpij.scope', 'all', true)")
        for table in expected.rls_tables:
            seen = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table)))
            if _one(seen)[0] != expected.tables[table]:
                raise BackupError(
                    f"With the 'all' scope the runtime login does not see every row of {table}."
                )
        conn.rollback()


def _restore_files(
    path: Path, opened: Opened, storage: Any, keyring: list[tuple[str, bytes]], say: Say
) -> tuple[int, int]:
    """Write the archive's files back as they were stored, then read each back and check
    its size and SHA-256. A backup made with --manifest-only holds no file: the storage
    was checked against its list before anything was restored."""
    if not opened.manifest["files"]["included"]:
        say(f"Stored files: {len(opened.files)} verified by SHA-256 (listed, not copied).")
        return 0, len(opened.files)
    expected = {item["name"]: item for item in opened.files}
    restored = 0
    for member, stream in _members(path, keyring):
        if not member.name.startswith(FILES_DIR):
            continue
        name = member.name[len(FILES_DIR) :]
        if storage.exists(name):
            if _hash_stored(storage, name)[1] == expected[name]["sha256"]:
                continue
            storage.delete(name)
        saved = _raw_save(storage, name, stream)
        if saved != name:
            raise BackupError(f"The storage stored {name} as {saved}.")
        restored += 1
    problems = files_not_as_listed(opened, storage)
    if problems:
        raise BackupError(
            f"{len(problems)} stored file(s) are not as the backup holds them after the "
            f"restore: {'; '.join(problems[:3])}"
        )
    say(f"Stored files: {restored} restored, {len(expected)} verified by SHA-256.")
    return restored, len(expected)


def files_not_as_listed(opened: Opened, storage: Any) -> list[str]:
    """The files the storage lacks, or holds with another size or SHA-256, than listed."""
    problems = []
    for item in opened.files:
        name = item["name"]
        if not storage.exists(name):
            problems.append(f"{name} is missing")
            continue
        size, digest, _ = _hash_stored(storage, name)
        if (size, digest) != (item["size"], item["sha256"]):
            problems.append(
                f"{name} differs (SHA-256 {digest[:12]}…, listed {item['sha256'][:12]}…)"
            )
    return problems
