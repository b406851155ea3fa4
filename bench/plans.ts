/**
 * EXPLAIN (ANALYZE, BUFFERS) of every statement the functions run, nested
 * ones and foreign-key checks included: auto_explain with
 * log_nested_statements, its output sent to this session as NOTICEs (so it
 * works on a server whose log the bench cannot read). Needs a superuser
 * (LOAD); reported as not available otherwise.
 */
import pg from 'pg';
import { compile } from './driver.js';
import { REGISTER_FUNCTION, REISSUE_FUNCTION, VERIFY_FUNCTION } from './schema-sql.js';

/** auto_explain settings for the capture. Query parameters are never printed (they include tokens). */
export const DEFAULT_AUTO_EXPLAIN: Readonly<Record<string, string>> = {
  'auto_explain.log_min_duration': '0',
  'auto_explain.log_nested_statements': 'on',
  'auto_explain.log_analyze': 'on',
  'auto_explain.log_buffers': 'on',
  'auto_explain.log_triggers': 'on',
  'auto_explain.log_format': 'text',
  'auto_explain.log_level': 'notice',
};

export interface CapturedPlan {
  readonly call: string;
  readonly statement: string;
  /** "Seq Scan on users", "Index Scan using … on users", … */
  readonly scans: readonly string[];
  readonly plan: string;
}

export interface Plans {
  readonly available: boolean;
  readonly reason?: string;
  readonly plans: readonly CapturedPlan[];
  /** Scans that read a whole table (none expected on users or tokens). */
  readonly sequentialScans: readonly string[];
}

/** The calls explained, against the largest scaling database: slot 1 is reissued, slot 2 verified. */
const CALLS = [
  { call: 'register_user_with_token (new address)', sql: REGISTER_FUNCTION, slot: 1, tag: 'new' },
  { call: 'register_user_with_token (reissue)', sql: REISSUE_FUNCTION, slot: 1, tag: 'loaded' },
  { call: 'verify_email', sql: VERIFY_FUNCTION, slot: 2, tag: 'loaded' },
] as const;

export async function capturePlans(url: string, loadedTag: string): Promise<Plans> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const notices: string[] = [];
  client.on('notice', (notice) => notices.push(notice.message ?? ''));
  try {
    const ok = await client.query("LOAD 'auto_explain'").then(
      () => true,
      (error: unknown) => error,
    );
    if (ok !== true) return { available: false, reason: `LOAD 'auto_explain' failed: ${String(ok)}`, plans: [], sequentialScans: [] };
    const version = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v);
    const settings = { ...DEFAULT_AUTO_EXPLAIN, ...(version >= 160000 && { 'auto_explain.log_parameter_max_length': '0' }) };
    for (const [name, value] of Object.entries(settings)) await client.query(`SELECT set_config($1, $2, false)`, [name, value]);
    const plans: CapturedPlan[] = [];
    for (const { call, sql, slot, tag } of CALLS) {
      const statement = compile(sql, '');
      const values = statement.variables.map((v) => (v === 'slot' ? slot : tag === 'new' ? `plans-${loadedTag}` : loadedTag));
      notices.length = 0;
      await client.query(statement.text, values);
      // Nested statements are reported before the call that ran them.
      for (const text of notices) plans.push({ call, statement: queryText(text), scans: scans(text), plan: text });
    }
    await client.query("SELECT set_config('auto_explain.log_min_duration', '-1', false)");
    const sequentialScans = [...new Set(plans.flatMap((p) => p.scans.filter((s) => s.startsWith('Seq Scan')).map((s) => `${s} (${p.call}: ${p.statement.slice(0, 60)}…)`)))];
    return { available: true, plans, sequentialScans };
  } finally {
    await client.end();
  }
}

function queryText(notice: string): string {
  const after = notice.split('Query Text:')[1] ?? notice;
  const lines = after.split('\n');
  const planStart = lines.findIndex((line) => line.includes('(cost='));
  return (planStart >= 0 ? lines.slice(0, planStart) : lines).join(' ').replace(/\s+/g, ' ').trim();
}

function scans(notice: string): string[] {
  return [...notice.matchAll(/((?:Seq|Index|Index Only|Bitmap Heap|Bitmap Index) Scan(?: Backward)?(?: using \S+)? on \S+)/g)].map((m) => m[1] ?? '');
}
