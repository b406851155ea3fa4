-- Adopting an existing database, step 1 of 3: move the hand-made tables out of authdb's way.
-- Renaming keeps their rows and references. Their indexes (users_pkey, users_email_key…) and
-- sequences (email_verification_tokens_id_seq) are renamed too: they share the schema's
-- namespace with authdb's, which creates indexes of the same names.
BEGIN;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT 'INDEX' AS kind, c.oid::regclass AS object, c.relname AS name
          FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
         WHERE i.indrelid IN ('users'::regclass, 'email_verification_tokens'::regclass)
        UNION ALL
        SELECT 'SEQUENCE', c.oid::regclass, c.relname
          FROM pg_depend AS d JOIN pg_class AS c ON c.oid = d.objid
         WHERE d.refobjid IN ('users'::regclass, 'email_verification_tokens'::regclass)
           AND d.classid = 'pg_class'::regclass AND c.relkind = 'S' AND d.deptype IN ('a', 'i')
    LOOP
        EXECUTE format('ALTER %s %s RENAME TO %I', r.kind, r.object, 'legacy_' || r.name);
    END LOOP;
END
$$;
ALTER TABLE email_verification_tokens RENAME TO legacy_email_verification_tokens;
ALTER TABLE users RENAME TO legacy_users;
COMMIT;
