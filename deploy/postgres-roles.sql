-- Two roles for a ledger on PostgreSQL (see deploy/README.md, "Database roles"):
--
--   engagements_owner  owns the tables, functions and triggers; used only to run the migrations;
--   engagements_app    what `serve`, `relay` and the other commands connect as: it reads every
--                      table and appends to the log (`events`, `snapshots`), and writes the
--                      bookkeeping tables (api_tokens, web_sessions, relay_offsets), but cannot
--                      UPDATE, DELETE or TRUNCATE the log, ALTER its tables or disable their
--                      triggers (that takes ownership), nor change the schema.
--
-- Run as a superuser, connected to the ledger's database, with the ledger's schema first in
-- search_path (`public` unless the ledger lives in a schema of its own), before the first
-- migration:
--
--   psql -v ON_ERROR_STOP=1 -d engagements -f deploy/postgres-roles.sql
--
-- then give both roles a password (`\password engagements_owner`, `\password engagements_app`).
-- Running it again is harmless. On an existing ledger it also hands the tables and functions
-- already there to the owner and sets the application role's rights on them.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'engagements_owner') THEN
        CREATE ROLE engagements_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'engagements_app') THEN
        CREATE ROLE engagements_app LOGIN;
    END IF;
END
$roles$;

DO $grants$
DECLARE
    ledger_schema TEXT := current_schema();
    item RECORD;
BEGIN
    IF ledger_schema IS NULL THEN
        RAISE EXCEPTION 'no schema in search_path: create the ledger''s schema first';
    END IF;
    -- Only the owner creates objects in the ledger's schema.
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', ledger_schema);
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO engagements_owner', ledger_schema);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO engagements_app', ledger_schema);
    -- Tables the owner creates later (every migration): read and write for the application;
    -- migration 0006 then takes UPDATE, DELETE and TRUNCATE of the log back.
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE engagements_owner IN SCHEMA %I '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO engagements_app',
                   ledger_schema);
    -- Tables already there (an existing ledger): same rights, set by hand.
    FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = ledger_schema LOOP
        EXECUTE format('ALTER TABLE %I.%I OWNER TO engagements_owner', ledger_schema, item.tablename);
        EXECUTE format('REVOKE ALL ON %I.%I FROM engagements_app', ledger_schema, item.tablename);
        IF item.tablename IN ('events', 'snapshots') THEN
            EXECUTE format('GRANT SELECT, INSERT ON %I.%I TO engagements_app',
                           ledger_schema, item.tablename);
        ELSIF item.tablename = '_sqlx_migrations' THEN
            EXECUTE format('GRANT SELECT ON %I.%I TO engagements_app', ledger_schema, item.tablename);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO engagements_app',
                           ledger_schema, item.tablename);
        END IF;
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                WHERE p.pronamespace = ledger_schema::regnamespace LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO engagements_owner', item.signature);
    END LOOP;
END
$grants$;
