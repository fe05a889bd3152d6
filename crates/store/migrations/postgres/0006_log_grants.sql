-- Whoever else was granted rights on the log (for instance the application role of
-- `deploy/postgres-roles.sql`, whose default privileges cover every table the owner creates)
-- keeps SELECT and INSERT on `events` and `snapshots` but loses UPDATE, DELETE and TRUNCATE, and
-- may only read the migrations table. The triggers refuse these changes anyway; without the
-- privilege the refusal no longer depends on triggers that the table's owner could disable.
-- A later migration that creates a table of the log must revoke the same rights.
DO $$
DECLARE
    grantee_name TEXT;
BEGIN
    FOR grantee_name IN
        SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE acl.grantee::regrole::text END
        FROM pg_class c, aclexplode(c.relacl) acl
        WHERE c.oid IN ('events'::regclass, 'snapshots'::regclass, '_sqlx_migrations'::regclass)
          AND acl.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON events, snapshots FROM %s', grantee_name);
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM %s', grantee_name);
    END LOOP;
END
$$;
