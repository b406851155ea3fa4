/**
 * The fix for a schema that holds what another role owns: another schema, never taking over or
 * dropping that role's objects. The suggested name is not one a platform claims (Supabase's Auth
 * owns `auth`).
 */
export function ownSchemaFix(schema: string, owner: string): string {
  const suggestion = schema === SUGGESTED_SCHEMA ? `${SUGGESTED_SCHEMA}_app` : SUGGESTED_SCHEMA;
  return (
    `install authdb into a schema of its own with --schema NAME, naming one that does not exist yet (such as ${suggestion}): ` +
    `migrate up creates it, owned by ${owner} (or a DBA creates it first: CREATE SCHEMA ${suggestion} AUTHORIZATION ${owner};)`
  );
}

/** The schema the README and the fixes suggest: no platform authdb runs on claims it. */
export const SUGGESTED_SCHEMA = 'authdb';
