import { LOCK_CLASS, lockKey } from '../migrate/advisory-lock.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../migrate/migrator.js';
import { OBJECTS_SQL, STATEMENTS_SQL } from '../migrate/default-privileges.js';
import { suggestedSchemaInstead } from '../migrate/own-schema-fix.js';
import { TRUST_SQL } from '../migrate/schema-trust.js';
import { TABLE_CODE_SQL } from '../migrate/table-code.js';
import { SOURCE_COLUMN, TRACKING_TABLE, TRACKING_TABLE_COLUMNS } from '../migrate/tracking-table.js';

/** The temporary function every exported file creates, calls around its migration, and drops. */
export const GUARD_FUNCTION = 'pg_temp.authdb_export';

/** Its argument types, as `DROP FUNCTION` names them. */
export const GUARD_ARGUMENTS = '(text, text, text, text, text, text)';

/** One string literal for SQL (standard_conforming_strings on: only quotes are doubled). */
export function sqlLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `CREATE OR REPLACE FUNCTION pg_temp.authdb_export(step, schema, name, source, checksum, search_path)`:
 * what `authdb migrate up` does around one migration file, in plain SQL, for a
 * runner that is not authdb's engine (`supabase db push`, one transaction per file).
 *
 * - `before`: takes the schema's migration lock (the one `authdb migrate up`
 *   holds, here for the transaction); refuses a schema another role controls
 *   (the engine's own trust queries: {@link TRUST_SQL}, {@link TABLE_CODE_SQL});
 *   creates the schema and `authdb_migrations` when missing and takes back what
 *   default privileges gave on them ({@link STATEMENTS_SQL}); checks again;
 *   refuses a migration the table already records, or one older than an
 *   applied one of its source; notes the schema's objects, the start time and
 *   the running migration in transaction-local settings.
 * - `ready` (after the engine's preamble): refuses to go on unless the file
 *   runs in one transaction with the target search_path, so that nothing of the
 *   migration can run elsewhere.
 * - `after`: takes back what default privileges gave on the objects the
 *   migration created and records it (name, source, checksum, duration), as
 *   the engine does in the file's transaction.
 *
 * Its own statements run with `search_path = pg_catalog, pg_temp`; nothing it
 * calls resolves through the caller's path. The lock key is the schema's, so
 * the text depends on the schema only: the same export gives the same bytes.
 *
 * The text is part of every exported file: a change to it changes every file
 * an earlier export wrote (which `export` then refuses to overwrite).
 */
export function guardFunctionSql(schema: string): string {
  const suggestion = suggestedSchemaInstead(schema);
  return `CREATE OR REPLACE FUNCTION ${GUARD_FUNCTION}(p_step text, p_schema text, p_name text, p_source text, p_checksum text, p_search_path text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $authdb_export$
DECLARE
    v_schema   text := pg_catalog.quote_ident(p_schema);
    v_table    text := pg_catalog.quote_ident(p_schema) || '.${TRACKING_TABLE}';
    v_owner    text := pg_catalog.quote_ident(CURRENT_USER::text);
    -- The fix for a schema that holds what another role owns: never take it over, never drop its objects.
    v_own      text := pg_catalog.format(
        'install authdb into a schema of its own: remove the files of this export from supabase/migrations and export again '
        'with authdb export supabase --schema NAME, naming a schema that does not exist yet (such as ${suggestion}): its first '
        'migration creates it, owned by %1$s (or a DBA creates it first: CREATE SCHEMA ${suggestion} AUTHORIZATION %1$s;)',
        pg_catalog.quote_ident(CURRENT_USER::text));
    v_problems text[] := '{}';
    v_trust    record;
    v_code     record;
    v_statement text;
    v_existed  text[];
    v_recorded text;
    v_later    text;
BEGIN
    IF p_step = 'trust' THEN
        -- The engine's check (schema-trust.ts), the same queries; the problems as it words them.
        EXECUTE $authdb_sql$${TRUST_SQL}$authdb_sql$ INTO v_trust USING p_schema, NULL::text;
        IF NOT v_trust."schemaExists" THEN
            RETURN;
        END IF;
        IF NOT v_trust."schemaOwnerTrusted" THEN
            -- Another role's schema (Supabase Auth's auth): whatever else is in it is that role's to change.
            v_problems := ARRAY[pg_catalog.format(
                E'schema %s is owned by role %s, which is neither %s nor a superuser: it can create, replace or drop objects in it%s\\n    fix: leave schema %s to role %s; %s',
                v_schema, v_trust."schemaOwner", v_owner,
                CASE WHEN pg_catalog.cardinality(v_trust."foreignObjects") = 0 THEN ''
                     ELSE pg_catalog.format('; it holds %s object(s) of its own, such as %s', pg_catalog.cardinality(v_trust."foreignObjects"),
                                            pg_catalog.array_to_string(v_trust."foreignObjects"[1:3], '; ')) END,
                v_schema, v_trust."schemaOwner", v_own)];
        ELSE
            IF pg_catalog.cardinality(v_trust.creators) > 0 THEN
                v_problems := v_problems || pg_catalog.format(
                    E'%1$s may create objects in schema %2$s: a function or operator planted there can take the place of one that authdb calls and run with its caller''s rights\\n    fix: REVOKE CREATE ON SCHEMA %2$s FROM %1$s;',
                    pg_catalog.array_to_string(v_trust.creators, ', '), v_schema);
            END IF;
            IF v_trust."trackingOwner" IS NOT NULL THEN
                v_problems := v_problems || pg_catalog.format(
                    E'table %1$s is owned by role %2$s, not by %3$s: its rows decide what authdb applies and what authdb migrate validate and schema check accept\\n    fix: if role %2$s ran the migrations, push as %2$s (a connection string of another role is the usual cause); otherwise the table is not %3$s''s install: %4$s',
                    v_table, v_trust."trackingOwner", v_owner, v_own);
            END IF;
            IF pg_catalog.cardinality(v_trust."trackingWriters") > 0 THEN
                v_problems := v_problems || pg_catalog.format(
                    E'%1$s may write table %2$s, whose rows decide what authdb applies\\n    fix: REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE %2$s FROM %1$s;',
                    pg_catalog.array_to_string(v_trust."trackingWriters", ', '), v_table);
            END IF;
            IF pg_catalog.cardinality(v_trust."foreignObjects") > 0 THEN
                v_problems := v_problems || pg_catalog.format(
                    E'schema %1$s holds objects owned by %2$s, which can replace them, and an overload of an authdb function makes its calls ambiguous: %3$s\\n    fix: they are %2$s''s, and authdb does not install beside them: %4$s',
                    v_schema, pg_catalog.array_to_string(v_trust."foreignOwners", ', '), pg_catalog.array_to_string(v_trust."foreignObjects"[1:10], '; '), v_own);
            END IF;
            FOR v_code IN EXECUTE $authdb_sql$${TABLE_CODE_SQL}$authdb_sql$ USING p_schema, NULL::text LOOP
                v_problems := v_problems || pg_catalog.format(E'%s\\n    fix: %s',
                    CASE v_code.kind
                        WHEN 'trigger-privilege' THEN pg_catalog.format('%s may create triggers on table %s: a trigger''s function runs whenever authdb''s functions or commands write the table, with their rights',
                                                                        pg_catalog.array_to_string(v_code.uses, ', '), v_code."table")
                        WHEN 'rule' THEN pg_catalog.format('%s: authdb creates no rules, and a rule''s actions run with the rights of the table''s owner whenever the table is used', v_code.object)
                        ELSE pg_catalog.format('%s uses %s: that code runs whenever authdb''s functions or commands use table %s, with their rights',
                                               v_code.object, pg_catalog.array_to_string(v_code.uses, ', '), v_code."table")
                    END,
                    CASE WHEN NOT v_code."tableTrusted" THEN pg_catalog.format('table %s is role %s''s: %s', v_code."table", v_code."tableOwner", v_own)
                         WHEN v_code.drop IS NOT NULL THEN pg_catalog.format('as %s, after reviewing what it did: %s', v_owner, v_code.drop)
                         ELSE pg_catalog.format('as %s, change the column''s type to one that %s or a superuser owns, or %s', v_owner, v_owner, v_own)
                    END);
            END LOOP;
        END IF;
        IF pg_catalog.cardinality(v_problems) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = '42501',
                MESSAGE = pg_catalog.format(
                    E'authdb: refusing to use schema "%s": a role other than the install''s owner (the role that runs the migrations) controls it\\n  %s\\nApply the fix(es) -- each says who runs it -- and push again. Nothing of %s was applied. [AUTHDB_SCHEMA_TRUST]',
                    p_schema, pg_catalog.array_to_string(v_problems, E'\\n  '), p_name);
        END IF;
        RETURN;
    END IF;

    IF p_step = 'before' THEN
        -- The lock authdb migrate up holds on this schema, here until the transaction ends.
        PERFORM pg_catalog.set_config('lock_timeout', '${DEFAULT_LOCK_TIMEOUT_MS}', true);
        BEGIN
            PERFORM pg_catalog.pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(schema)});
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION USING ERRCODE = '55P03', MESSAGE = pg_catalog.format(
                'authdb: another migration run on schema "%s" (authdb migrate up, or another push) held the migration lock for longer than ${DEFAULT_LOCK_TIMEOUT_MS / 1000} s; push again later. Nothing of %s was applied. [AUTHDB_LOCK_TIMEOUT]',
                p_schema, p_name);
        END;
        PERFORM ${GUARD_FUNCTION}('trust', p_schema, p_name, p_source, p_checksum, p_search_path);
        -- The schema and the tracking table, when missing, stripped of what default privileges gave.
        EXECUTE $authdb_sql$${OBJECTS_SQL} SELECT pg_catalog.array_agg(id) FROM objects$authdb_sql$ INTO v_existed USING p_schema;
        v_existed := coalesce(v_existed, '{}');
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = p_schema) THEN
            BEGIN
                EXECUTE 'CREATE SCHEMA ' || v_schema;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = pg_catalog.format(
                    'authdb: CREATE SCHEMA %1$s failed: role %2$s may not create schemas in database %3$s; a DBA creates it for %2$s (CREATE SCHEMA %1$s AUTHORIZATION %2$s;) or grants the right (GRANT CREATE ON DATABASE %3$s TO %2$s;). Nothing of %4$s was applied. [AUTHDB_SETUP]',
                    v_schema, v_owner, pg_catalog.quote_ident(pg_catalog.current_database()), p_name);
            END;
        END IF;
        IF pg_catalog.to_regclass(v_table) IS NULL THEN
            EXECUTE 'CREATE TABLE ' || v_table || $authdb_sql$ (${TRACKING_TABLE_COLUMNS})$authdb_sql$;
        ELSIF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(v_table) AND attname = 'source' AND NOT attisdropped) THEN
            EXECUTE 'ALTER TABLE ' || v_table || $authdb_sql$ ADD COLUMN ${SOURCE_COLUMN}$authdb_sql$;
        END IF;
        FOR v_statement IN EXECUTE $authdb_sql$${OBJECTS_SQL} ${STATEMENTS_SQL}$authdb_sql$ USING p_schema, v_existed LOOP
            EXECUTE v_statement;
        END LOOP;
        PERFORM ${GUARD_FUNCTION}('trust', p_schema, p_name, p_source, p_checksum, p_search_path);
        -- The history, as authdb migrate up reads it.
        EXECUTE 'SELECT checksum FROM ' || v_table || ' WHERE name = $1' INTO v_recorded USING p_name;
        IF v_recorded IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = CASE WHEN v_recorded = p_checksum
                THEN pg_catalog.format('authdb: %1$s.%2$s already records migration %3$s (authdb migrate up applied it): nothing of this file was run; record it in supabase''s history without running it: supabase migration repair --status applied %4$s [AUTHDB_ALREADY_APPLIED]',
                                       v_schema, '${TRACKING_TABLE}', p_name, pg_catalog.split_part(p_name, '_', 1))
                ELSE pg_catalog.format('authdb: %1$s.%2$s records migration %3$s with checksum %4$s, and this file carries %5$s: it was exported from another version of the migration; nothing of this file was run; run authdb migrate validate --schema %6$s against this database to see what changed [AUTHDB_HISTORY]',
                                       v_schema, '${TRACKING_TABLE}', p_name, v_recorded, p_checksum, p_schema) END;
        END IF;
        EXECUTE 'SELECT pg_catalog.max(name) FROM ' || v_table || ' WHERE source = $1 AND name > $2' INTO v_later USING p_source, p_name;
        IF v_later IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = pg_catalog.format(
                'authdb: migration %1$s is older than %2$s, which %3$s.%4$s records as applied: authdb applies the migrations of a source in name order; nothing of this file was run; apply it with authdb migrate up --allow-out-of-order --schema %5$s, then supabase migration repair --status applied %6$s [AUTHDB_OUT_OF_ORDER]',
                p_name, v_later, v_schema, '${TRACKING_TABLE}', p_schema, pg_catalog.split_part(p_name, '_', 1));
        END IF;
        EXECUTE $authdb_sql$${OBJECTS_SQL} SELECT pg_catalog.array_agg(id) FROM objects$authdb_sql$ INTO v_existed USING p_schema;
        PERFORM pg_catalog.set_config('authdb.export_existed', coalesce(v_existed, '{}')::text, true);
        PERFORM pg_catalog.set_config('authdb.export_started', pg_catalog.clock_timestamp()::text, true);
        PERFORM pg_catalog.set_config('authdb.export_running', p_name, true);
        RETURN;
    END IF;

    -- ready and after: only in the transaction that ran before, and with the target's search_path.
    IF pg_catalog.current_setting('authdb.export_running', true) IS DISTINCT FROM p_name THEN
        RAISE EXCEPTION USING ERRCODE = '25000', MESSAGE = pg_catalog.format(
            'authdb: %s must run in one transaction, as supabase db push runs each migration file (with psql: psql --single-transaction -v ON_ERROR_STOP=1 -f FILE); its checks ran in an earlier transaction, so its statements would run unchecked [AUTHDB_EXPORT_TRANSACTION]',
            p_name);
    END IF;
    IF p_step = 'ready' THEN
        IF p_search_path IS DISTINCT FROM v_schema || ', pg_temp' THEN
            RAISE EXCEPTION USING ERRCODE = '25000', MESSAGE = pg_catalog.format(
                'authdb: %s must run with search_path %s, pg_temp (its SET LOCAL statements), not %s: the migration creates its objects unqualified [AUTHDB_EXPORT_TRANSACTION]',
                p_name, v_schema, p_search_path);
        END IF;
        RETURN;
    END IF;
    IF p_step = 'after' THEN
        FOR v_statement IN EXECUTE $authdb_sql$${OBJECTS_SQL} ${STATEMENTS_SQL}$authdb_sql$
            USING p_schema, pg_catalog.current_setting('authdb.export_existed')::text[] LOOP
            EXECUTE v_statement;
        END LOOP;
        EXECUTE 'INSERT INTO ' || v_table || ' (name, source, checksum, duration_ms) VALUES ($1, $2, $3, $4)'
            USING p_name, p_source, p_checksum,
                  pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - pg_catalog.current_setting('authdb.export_started')::timestamptz) * 1000)::integer;
        PERFORM pg_catalog.set_config('authdb.export_running', '', true);
        RETURN;
    END IF;
    RAISE EXCEPTION 'authdb: unknown step %', p_step;
END
$authdb_export$;`;
}

/** A call of the guard, as the file shows it: `SELECT pg_temp.authdb_export('before', …);`. */
export function guardCallSql(step: 'before' | 'ready' | 'after', schema: string, name: string, source: string, checksum: string): string {
  return `SELECT ${GUARD_FUNCTION}(${[step, schema, name, source, checksum].map(sqlLiteral).join(', ')}, pg_catalog.current_setting('search_path'));`;
}
