/**
 * Section 3: n sessions register one address at once. Every session is
 * connected before the round starts; the calls are sent together and the
 * time runs until the last one has answered. Two throttles: the default
 * (one 'created', the rest AU008) and 1 µs (calls issue tokens one after
 * another under the user's row lock up to the bound of 5, the rest AU013).
 */
import pg from 'pg';
import { compile } from './driver.js';
import { REGISTER_FUNCTION, REISSUE_FUNCTION } from './schema-sql.js';
import { RUN_ID } from './server.js';
import { median, round } from './stats.js';

export interface ContentionRow {
  readonly sessions: number;
  readonly throttle: 'default' | '1 microsecond';
  /** Until all sessions finished: median over rounds, and every round. */
  readonly allFinishedMs: number;
  readonly roundsMs: readonly number[];
  /** Outcome ('created', 'reissued') or SQLSTATE, summed over rounds. */
  readonly outcomes: Readonly<Record<string, number>>;
}

const VARIANTS = [
  { throttle: 'default', sql: REGISTER_FUNCTION.replace('r.user_id', 'r.outcome') },
  { throttle: '1 microsecond', sql: REISSUE_FUNCTION.replace('r.user_id', 'r.outcome') },
] as const;

export async function measureContention(url: string, sessionCounts: readonly number[], rounds: number): Promise<ContentionRow[]> {
  const rows: ContentionRow[] = [];
  for (const sessions of sessionCounts) {
    const clients = Array.from({ length: sessions }, () => new pg.Client({ connectionString: url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      for (const variant of VARIANTS) {
        const statement = compile(variant.sql, '');
        const outcomes: Record<string, number> = {};
        const times: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const values = statement.variables.map((v) => (v === 'slot' ? r : `${RUN_ID}x${sessions}${variant.throttle.length}`));
          const started = performance.now();
          const results = await Promise.all(
            clients.map((c) =>
              c.query<{ outcome: string }>(statement.text, values).then(
                (res) => res.rows[0]?.outcome ?? 'no row',
                (error: unknown) => (error as { code?: string }).code ?? String(error),
              ),
            ),
          );
          times.push(performance.now() - started);
          for (const outcome of results) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
        rows.push({ sessions, throttle: variant.throttle, allFinishedMs: round(median(times)), roundsMs: times.map((t) => round(t)), outcomes });
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }
  return rows;
}
