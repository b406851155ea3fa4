// The ASCII fast path of the canonical e-mail form (authdb_email_is_ascii_canonical,
// authdb_email_ascii_canonical) against the full path, for every ASCII code
// point in every position of an address, at the length limits, and for
// ACE prefixes in any case: whenever the fast path decides, it gives what
// the full canonicalisation gives, and "already canonical" means it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, createMigratedTurkishDatabase, type TestDatabase } from '../support/database.js';
import { createTryFullCanonical } from './helpers.js';

function inputs(): string[] {
  const out: string[] = [];
  const chars: string[] = [];
  for (let c = 1; c < 0x80; c++) chars.push(String.fromCharCode(c));
  chars.push('\u0080', '\u00a0', '\u0130', '\u212a', '\uff41', '\u017f');
  for (const ch of chars) {
    for (const t of [`${ch}a@b.c`, `a${ch}b@c.d`, `ab${ch}@c.d`, `a@${ch}b.c`, `a@b${ch}c.d`, `a@b.c${ch}`, `a@b.${ch}c`, `a@b${ch}.c`,
      `${ch}@b.c`, `a@${ch}`, `a@b.${ch}`, `${ch}A@B.C`, `A@B.C${ch}`, `${ch}${ch}a@b.c${ch}`, `a@xn--${ch}`, `a@b.xn--${ch}x`, `a@${ch}xn--bcher-kva`])
      out.push(t);
  }
  const l = (n: number): string => 'a'.repeat(n);
  for (const n of [63, 64, 65]) out.push(`${l(n)}@b.c`, `${l(n).toUpperCase()}@b.c`, ` ${l(n)}@b.c `);
  for (const total of [253, 254, 255, 256]) {
    const d = total - 2 - 64;
    const dom = Array.from({ length: Math.ceil(d / 50) }, () => 'b'.repeat(49)).join('.').slice(0, d);
    for (const v of [`${l(64)}@${dom}`, `${l(64)}@${dom}.`, ` ${l(64)}@${dom} `, `\t${l(64)}@${dom}\x0b`, `${l(64)}@${dom.toUpperCase()}`]) out.push(v);
  }
  out.push('a@b..c', 'a@.b', 'a@b.', 'a@b..', 'a@@b', 'a@b@c', '"a b"@c.d', '"a@b"@c.d', 'a@[1.2.3.4]', 'a@XN--bcher-kva.example', 'a@Xn--bcher-kva.example',
    'a@xN--bcher-kva.example', 'a@bcher-kva.xn--', 'a@-b-.c', 'a@b.-', '.a.@b.c', 'a..b@c.d', 'a@b\\.c', 'a@b\u3002c', 'a@b\uff0ec', 'a@b.c\u3002', '\u00a0a@b.c');
  return out;
}

describe.each([
  { name: 'default', create: () => createMigratedDatabase() },
  { name: 'turkish', create: createMigratedTurkishDatabase },
])('$name: the ASCII fast path vs the full path, exhaustive over ASCII positions', (flavour) => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await flavour.create();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await createTryFullCanonical(client);
  });
  afterAll(async () => { await client.end(); await db.close(); });

  it('agrees', async () => {
    const all = inputs();
    const { rows } = await client.query<{ input: string; fast: string | null; ok: boolean | null; full: string | null }>(
      `SELECT input, authdb_email_ascii_canonical(input) AS fast, authdb_email_is_ascii_canonical(input) AS ok, pg_temp.try_full(input) AS full
         FROM unnest($1::text[]) AS input`, [all]);
    const bad = rows.filter((r) => (r.fast !== null && r.fast !== r.full) || (r.ok === true && r.full !== r.input));
    expect(rows.length).toBe(all.length);
    expect(rows.filter((r) => r.ok === true).length).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });
});

