// A timestamptz the driver parses from its text form is only as right as the
// session's DateStyle and TimeZone let it be: under `DateStyle = 'SQL, DMY'`
// (set on a database or role) pg's parser reads `02/12/2026 …` as 1970 or
// null. authdb therefore reads every timestamp in a form no setting changes:
// ISO 8601 in UTC with milliseconds, written by `to_char` with a fixed
// pattern (no locale-dependent field), whatever the session's settings are.
// Its own sessions keep the database's settings, so migration files run
// under the DateStyle their authors expect.

/** The `to_char` pattern of ISO 8601 UTC with milliseconds. */
export const ISO_UTC_PATTERN = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/** SQL for `expression` (a timestamptz) as ISO 8601 UTC text; NULL stays NULL. */
export function utcTextSql(expression: string): string {
  return `pg_catalog.to_char(pg_catalog.timezone('UTC'::pg_catalog.text, ${expression}), '${ISO_UTC_PATTERN}'::pg_catalog.text)`;
}

/** The Date of a timestamp read as ISO 8601 UTC text. */
export function fromUtcText(text: string): Date {
  return new Date(text);
}

/** The Date of a timestamp read as ISO 8601 UTC text that may be NULL. */
export function fromUtcTextOrNull(text: string | null): Date | null {
  return text === null ? null : fromUtcText(text);
}
