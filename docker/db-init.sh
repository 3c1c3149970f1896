#!/bin/sh
# The hub's two database logins (docs/security.md, "Database roles"), made by the cluster's superuser.
# The postgres image runs this once, when it initialises an empty volume; it is
# idempotent, so it may be run again by hand (it resets the two passwords):
#   docker compose exec db sh /docker-entrypoint-initdb.d/10-bpij-logins.sh
#
# - BPIJ_DB_OWNER (bpij_owner) owns the database, its schema and so every table:
#   migrations only. No superuser, may create no role or database.
# - DB_APP_ROLE (bpij_app) is the runtime login, the role the row-level security policies
#   hold: no superuser, no BYPASSRLS, no CREATEROLE/CREATEDB, a member of no role (so
#   SET ROLE has nowhere to go), owner of nothing. The migrations grant it what it needs.
set -eu
: "${BPIJ_DB_OWNER_PASSWORD:?set BPIJ_DB_OWNER_PASSWORD}"
: "${BPIJ_DB_APP_PASSWORD:?set BPIJ_DB_APP_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-bpij}" \
    -v db="${POSTGRES_DB:-bpij}" \
    -v owner="${BPIJ_DB_OWNER:-bpij_owner}" -v owner_password="$BPIJ_DB_OWNER_PASSWORD" \
    -v app="${DB_APP_ROLE:-bpij_app}" -v app_password="$BPIJ_DB_APP_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'owner')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
    PASSWORD :'owner_password';
SELECT format('CREATE ROLE %I LOGIN', :'app')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
    PASSWORD :'app_password';
SELECT format('REVOKE %I FROM %I', roleid::regrole, :'app')
    FROM pg_auth_members WHERE member = :'app'::regrole \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
