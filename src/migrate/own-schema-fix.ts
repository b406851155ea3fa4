/**
 * The fix for a schema that holds what another role owns: another schema, never taking over or
 * dropping that role's objects. The suggested name is not one a platform claims (Supabase's Auth
 * owns `auth`).
 */
export function ownSchemaFix(schema: string, owner: string): string {
  const suggestion = suggestedSchemaInstead(schema);
  return (
    `install authdb into a schema of its own with --schema NAME, naming one that does not exist yet (such as ${suggestion}): ` +
    `migrate up creates it, owned by ${owner} (or a DBA creates it first: CREATE SCHEMA ${suggestion} AUTHORIZATION ${owner};)`
  );
}

/** The schema the README and the fixes suggest: no platform authdb runs on claims it. */
export const SUGGESTED_SCHEMA = 'authdb';

/** The schema to suggest instead of `schema`: {@link SUGGESTED_SCHEMA}, unless that is the one refused. */
export function suggestedSchemaInstead(schema: string): string {
  return schema === SUGGESTED_SCHEMA ? `${SUGGESTED_SCHEMA}_app` : SUGGESTED_SCHEMA;
}
