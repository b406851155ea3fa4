import { sql, type RawBuilder } from 'kysely';
import { ISO_UTC_PATTERN } from '../sql/timestamp-text.js';

export { fromUtcText, fromUtcTextOrNull } from '../sql/timestamp-text.js';

/**
 * `value` (a timestamptz expression) as ISO 8601 UTC text, NULL staying NULL:
 * the form the client reads every timestamp in, so the application's pool,
 * pooler or session settings (DateStyle, TimeZone) cannot change what it
 * returns (see src/sql/timestamp-text.ts).
 */
export function utcText(value: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql<string | null>`pg_catalog.to_char(pg_catalog.timezone('UTC'::pg_catalog.text, ${value}), ${sql.lit(ISO_UTC_PATTERN)}::pg_catalog.text)`;
}
