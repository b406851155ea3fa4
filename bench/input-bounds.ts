/**
 * Input bounds (issue 14 §1): for every SQL API function and every text
 * parameter, the worst input we can construct at 1 KB, 64 KB and 1 MB —
 * long ACE labels, NFD-heavy and combining-mark runs, many labels, many
 * "@", blank padding, characters from every block of the lower-case table —
 * timed inside the server (clock_timestamp() around an EXECUTE, so sending
 * the megabyte is not counted). The max per function is reported against
 * the 5 ms target: reported, never asserted.
 *
 * "1 KB" is 1024 characters, exactly the e-mail bound: those inputs get the
 * full canonicalisation (the worst within the bounds); 64 KB and 1 MB show
 * the refusal by the bounds.
 */
import pg from 'pg';
import { median, round } from './stats.js';

/** The target per call, in milliseconds. */
export const INPUT_BOUNDS_TARGET_MS = 5;

/** Timed repetitions per input (the median is reported). */
const REPEATS = 5;

export const INPUT_SIZES = [{ label: '1 KB', chars: 1024 }, { label: '64 KB', chars: 65_536 }, { label: '1 MB', chars: 1_048_576 }] as const;

export interface InputBoundsRow {
  readonly function: string;
  readonly size: string;
  /** Median ms of the slowest input for this function and size. */
  readonly maxMs: number;
  /** Which parameter and input that was. */
  readonly worst: string;
  readonly inputs: number;
}

export interface InputBounds {
  readonly targetMs: number;
  readonly rows: readonly InputBoundsRow[];
}

type Generator = (chars: number) => string;

const fill = (unit: string, chars: number): string => unit.repeat(Math.ceil(chars / Array.from(unit).length));
const cut = (s: string, chars: number): string => Array.from(s).slice(0, chars).join('');

/** Addresses of exactly `chars` characters, each a worst case of one kind. */
const EMAILS: Readonly<Record<string, Generator>> = {
  'one ACE label': (n) => `a@xn--${'a'.repeat(n - 6)}`,
  'ACE labels of 59 digits': (n) => cut(`a@${fill(`xn--${'a'.repeat(59)}.`, n)}`, n),
  'NFD local part': (n) => `${cut(fill('e\u0301', n - 12), n - 12)}@example.com`,
  'combining-mark run': (n) => cut(`a@b${fill('\u0301\u0316', n)}`, n),
  'NFKC-expanding domain': (n) => cut(`a@${fill(`${'\u3300'.repeat(15)}.`, n)}`, n),
  'lower-table blocks': (n) => `${cut(fill('\u00c0\u0391\u0410\u10a0\u13a0\u2c00\u{10400}\uff21', n - 12), n - 12)}@example.com`,
  'many labels': (n) => cut(`a@${fill('a.', n)}`, n),
  'many @': (n) => '@'.repeat(n),
  'blank padding': (n) => `${' '.repeat(n - 15)}ada@example.com`,
  'long local part': (n) => `${'a'.repeat(n - 12)}@example.com`,
};

const repeatOf = (c: string): Generator => (n) => c.repeat(n);

/** Function → parameter → (call with the value as $1, generators). */
const CALLS: Readonly<Record<string, Readonly<Record<string, readonly [sql: string, inputs: Readonly<Record<string, Generator>>]>>>> = {
  canonical_email: { p_email: ['SELECT canonical_email($1)', EMAILS] },
  register_user_with_token: {
    p_email: ["SELECT * FROM register_user_with_token($1, p_min_resend_interval => '0 seconds')", EMAILS],
    p_password_hash: ["SELECT * FROM register_user_with_token('bounds@example.com', p_password_hash => $1)", { hash: repeatOf('h') }],
    p_phone: ["SELECT * FROM register_user_with_token('bounds@example.com', p_phone => $1)", { 'separators and (0)': (n) => cut(`+49 (0) ${fill('1 -.', n)}`, n) }],
    p_role: ["SELECT * FROM register_user_with_token('bounds@example.com', p_role => $1)", { role: repeatOf('r') }],
  },
  resend_email_verification: {
    p_email: ['SELECT * FROM resend_email_verification($1)', EMAILS],
    p_registration_secret: ["SELECT * FROM resend_email_verification('bounds@example.com', p_registration_secret => $1)", { secret: repeatOf('s') }],
  },
  preview_email_verification: {
    p_token: ['SELECT * FROM preview_email_verification($1)', { token: repeatOf('t') }],
    p_registration_secret: ["SELECT * FROM preview_email_verification('t', $1)", { secret: repeatOf('s') }],
  },
  verify_email: {
    p_token: ['SELECT verify_email($1)', { token: repeatOf('t') }],
    p_registration_secret: ["SELECT verify_email('t', $1)", { secret: repeatOf('s') }],
    p_password_hash: ["SELECT verify_email('t', p_password_hash => $1)", { hash: repeatOf('h') }],
  },
  sign_in_credentials: { p_email: ['SELECT * FROM sign_in_credentials($1)', EMAILS] },
  authdb_check_email_import: { p_emails: ['SELECT authdb_check_email_import(ARRAY[$1])', EMAILS] },
};

/** Measures every function, parameter, input and size on the migrated database at `url`. */
export async function measureInputBounds(url: string, log: (line: string) => void): Promise<InputBounds> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The time of the call alone, errors included (they are the point); the
    // subtransaction of the EXCEPTION block undoes what a call writes.
    await client.query(`
      CREATE FUNCTION pg_temp.time_call(p_sql text, p_value text) RETURNS double precision LANGUAGE plpgsql AS $$
      DECLARE t0 timestamptz := clock_timestamp();
      BEGIN
          BEGIN EXECUTE p_sql USING p_value; EXCEPTION WHEN OTHERS THEN NULL; END;
          RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
      END $$`);
    const rows: InputBoundsRow[] = [];
    for (const [fn, parameters] of Object.entries(CALLS)) {
      for (const size of INPUT_SIZES) {
        let worst = { ms: -1, what: '' };
        let inputs = 0;
        for (const [parameter, [call, generators]] of Object.entries(parameters)) {
          for (const [kind, generate] of Object.entries(generators)) {
            const value = generate(size.chars);
            const times: number[] = [];
            for (let i = 0; i < REPEATS; i++) {
              const { rows: timed } = await client.query<{ ms: number }>('SELECT pg_temp.time_call($1, $2) AS ms', [call.replace('$1', '$1::text'), value]);
              times.push(Number(timed[0]?.ms));
            }
            inputs++;
            const ms = median(times);
            if (ms > worst.ms) worst = { ms, what: `${parameter}: ${kind}` };
          }
        }
        rows.push({ function: fn, size: size.label, maxMs: round(worst.ms), worst: worst.what, inputs });
        log(`${fn} ${size.label}: max ${worst.ms.toFixed(2)} ms (${worst.what}) over ${inputs} inputs`);
      }
    }
    return { targetMs: INPUT_BOUNDS_TARGET_MS, rows };
  } finally {
    await client.end();
  }
}

/** The section of latest.md. */
export function formatInputBounds(bounds: InputBounds): string[] {
  const over = bounds.rows.filter((r) => r.maxMs > bounds.targetMs);
  return [
    `### Input bounds: worst input per function (target ${bounds.targetMs} ms, reported, not asserted)`,
    '',
    'Median server-side time of the slowest constructed input (ms); "1 KB" is 1024 characters, the e-mail bound itself.',
    '',
    '| function | size | max ms | worst input | inputs |',
    '|---|---|---:|---|---:|',
    ...bounds.rows.map((r) => `| \`${r.function}\` | ${r.size} | ${r.maxMs.toFixed(2)} | ${r.worst} | ${r.inputs} |`),
    '',
    over.length === 0 ? `None above ${bounds.targetMs} ms.` : `Above ${bounds.targetMs} ms: ${over.map((r) => `${r.function} at ${r.size} (${r.maxMs.toFixed(2)} ms, ${r.worst})`).join('; ')}.`,
    '',
  ];
}
