-- Adopting an existing database, step 3 of 3, after `authdb migrate up`: copy the accounts into
-- authdb's users, in one transaction. The import check comes first: it raises one AU005 listing
-- every address that is invalid or shares its canonical form with another (Ada@x and ada@x)
-- or with a user already registered, and then nothing is copied. Merge or delete those rows of
-- legacy_users deliberately (authdb never merges accounts), and run this file again.
BEGIN;
SELECT authdb_check_email_import(ARRAY(SELECT email FROM legacy_users ORDER BY created_at, id));

-- The ids are kept (rows of the application that reference them stay valid). A confirmed account
-- keeps its password hash (an argon2 or bcrypt hash signs in as it is) and its confirmation; an
-- unconfirmed one is copied without a password (authdb stores none before verification) and
-- registers again to get a new link. Phones are not copied: users confirm them again.
INSERT INTO users (id, email, password_hash, role, email_confirmed_at, created_at)
SELECT id,
       canonical_email(email),
       CASE WHEN confirmed_at IS NOT NULL THEN password_hash END,
       'user',
       confirmed_at,
       created_at
  FROM legacy_users;

-- The application's foreign keys to the old users (orders.user_id…) now point at authdb's users:
-- the ids are the same. Each is added back checked, so a row of an account not copied fails here.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT conrelid::regclass AS owner, conname AS name, pg_get_constraintdef(oid) AS definition
          FROM pg_constraint
         WHERE contype = 'f' AND confrelid = 'legacy_users'::regclass
           AND conrelid <> 'legacy_email_verification_tokens'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.owner, r.name);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.owner, r.name,
                       replace(r.definition, 'REFERENCES legacy_users(', 'REFERENCES users('));
    END LOOP;
END
$$;

-- The old tokens are not carried over: their hashing, expiry and registration rules are not
-- authdb's. Unconfirmed users verify again with a token authdb issues.
DROP TABLE legacy_email_verification_tokens;
DROP TABLE legacy_users;
COMMIT;
