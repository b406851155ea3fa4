/**
 * Results of a run: bench/results/latest.json (everything), latest.md (the
 * tables), plans.txt (the EXPLAIN output) and latest.svg (the chart); the
 * tables also replace the marked block in README.md's "Performance" section.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartSvg } from './chart.js';
import type { ContentionRow } from './contention.js';
import type { Enumeration } from './enumeration.js';
import { formatInputBounds, type InputBounds } from './input-bounds.js';
import { formatCliStartup, type CliStartup } from './cli-startup.js';
import { formatPurge, type PurgeRow } from './purge.js';
import { formatMigrationFileRows, type MigrationFileRow } from './migration-files.js';
import type { PathComparison } from './path-comparison.js';
import type { Plans } from './plans.js';
import type { Profile } from './profile.js';
import type { Scaling } from './scaling.js';

export interface BenchResults {
  readonly generatedAt: string;
  readonly durationSeconds: number;
  readonly environment: Readonly<Record<string, string | number>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly paths?: PathComparison;
  readonly enumeration?: Enumeration;
  readonly scaling?: Scaling;
  readonly plans?: Plans;
  readonly contention?: readonly ContentionRow[];
  readonly cli?: CliStartup;
  readonly migrationFiles?: readonly MigrationFileRow[];
  readonly profile?: Profile;
  readonly inputBounds?: InputBounds;
  readonly purge?: readonly PurgeRow[];
}

const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const README_START = '<!-- bench:results:start (written by npm run bench) -->';
export const README_END = '<!-- bench:results:end -->';

/**
 * Writes latest.json, latest.md, plans.txt and latest.svg into `dir`; with
 * `updateReadme` (a full run into the committed results directory) also the
 * README's marked block, which must never show a partial run.
 */
export async function writeResults(dir: string, results: BenchResults, options: { readonly updateReadme: boolean }): Promise<readonly string[]> {
  await mkdir(dir, { recursive: true });
  const { plans, ...rest } = results;
  const json = { ...rest, ...(plans && { plans: { available: plans.available, reason: plans.reason, sequentialScans: plans.sequentialScans, statements: plans.plans.map((p) => ({ call: p.call, statement: p.statement, scans: p.scans })) } }) };
  const markdown = toMarkdown(results);
  const written: string[] = [];
  const write = async (name: string, text: string): Promise<void> => {
    await writeFile(join(dir, name), text);
    written.push(join(dir, name));
  };
  await write('latest.json', `${JSON.stringify(json, null, 2)}\n`);
  await write('latest.md', markdown);
  if (plans?.available) await write('plans.txt', plans.plans.map((p) => `-- ${p.call}\n${p.plan}\n`).join('\n'));
  if (results.paths) await write('latest.svg', await chartSvg(results.paths.rows, results.scaling?.rows ?? []));
  if (!options.updateReadme) return written;
  const readme = await readFile(README, 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start >= 0 && end > start) {
    await writeFile(README, `${readme.slice(0, start + README_START.length)}\n${markdown}${readme.slice(end)}`);
    written.push(README);
  }
  return written;
}

const num = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)) : '–');
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v >= 10 ? 1 : 2) : '–');

export function toMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const env = r.environment;
  out.push(
    `Run of ${r.generatedAt.slice(0, 10)} on ${env.cpus} cores (${env.cpuModel}), PostgreSQL ${env.serverVersion} (${env.server}), Node ${env.node}, ${env.pgbench}; ${Math.round(r.durationSeconds)} s in all; 1-minute load average ${Number(env.loadAverageAtStart).toFixed(1)} at the start, ${Number(env.loadAverageAtEnd).toFixed(1)} at the end (other work on the machine shows here).`,
    '',
  );
  if (r.paths) {
    const p = r.paths;
    const cs = [...new Set(p.rows.map((row) => row.concurrency))];
    out.push(`**Throughput** (operations/s: median over ${p.rounds} interleaved rounds of ${p.transactionsPerRun} operations, min–max in brackets) and latency (p50 / p99 ms, all rounds):`, '');
    out.push(`| runner | path | ${cs.map((c) => `c=${c}`).join(' | ')} | ${cs.map((c) => `p50 / p99 c=${c}`).join(' | ')} |`);
    out.push(`|---|---|${cs.map(() => '--:').join('|')}|${cs.map(() => '--:').join('|')}|`);
    for (const key of [...new Set(p.rows.map((row) => `${row.runner}|${row.path}`))]) {
      const rows = p.rows.filter((row) => `${row.runner}|${row.path}` === key);
      const first = rows[0];
      if (!first) continue;
      const at = (c: number) => rows.find((row) => row.concurrency === c);
      out.push(
        `| ${first.runner} | ${first.label} | ${cs.map((c) => { const x = at(c); return x ? `${num(x.opsPerSecond.median)} (${num(x.opsPerSecond.min)}–${num(x.opsPerSecond.max)})` : '–'; }).join(' | ')} | ${cs.map((c) => { const x = at(c); return x ? `${ms(x.latencyMs.p50)} / ${ms(x.latencyMs.p99)}` : '–'; }).join(' | ')} |`,
      );
    }
    out.push('', '**Ratios** the issue sets targets for (ratio of medians; in brackets the lowest and highest ratio within one round):', '');
    out.push(`| ratio | runner | ${cs.map((c) => `c=${c}`).join(' | ')} |`);
    out.push(`|---|---|${cs.map(() => '--:').join('|')}|`);
    for (const key of [...new Set(p.ratios.map((x) => `${x.name}|${x.runner}`))]) {
      const rows = p.ratios.filter((x) => `${x.name}|${x.runner}` === key);
      const first = rows[0];
      if (!first) continue;
      const cell = (c: number): string => {
        const x = rows.find((row) => row.concurrency === c);
        if (!x) return '–';
        const verdict = x.target === undefined ? '' : ` ${x.met ? 'meets' : 'misses'} ≥ ${x.target}`;
        return `${x.ratio.toFixed(2)} (${x.roundRange[0].toFixed(2)}–${x.roundRange[1].toFixed(2)})${verdict}`;
      };
      out.push(`| ${first.name} | ${first.runner} | ${cs.map(cell).join(' | ')} |`);
    }
    if (!p.pgbench) out.push('', 'pgbench was not found on this machine: the server-floor rows are missing.');
    out.push('');
  }
  if (r.enumeration) {
    const e = r.enumeration;
    out.push(`**registerUser({ password })**, argon2id in the client, ${e.operationsPerRound} calls per round at concurrency 1: a confirmed address (AU001) should take as long as a new one.`, '');
    out.push('| address | ops/s | p50 / p99 ms |', '|---|--:|--:|');
    for (const row of e.rows) out.push(`| ${row.path} | ${num(row.opsPerSecond)} | ${ms(row.latencyMs.p50)} / ${ms(row.latencyMs.p99)} |`);
    out.push('', `confirmed / new: ${e.ratio.toFixed(2)} (near 1.00: no timing signal).`, '');
  }
  if (r.scaling) {
    const s = r.scaling;
    out.push(`**Scaling** (concurrency ${s.concurrency}, ${s.operationsPerRound} operations × ${s.rounds} rounds per size; users bulk-loaded with INSERT … SELECT):`, '');
    out.push('| existing users | register p50 / p99 ms | verify p50 / p99 ms | register ops/s | verify ops/s | load s |', '|--:|--:|--:|--:|--:|--:|');
    for (const size of [...new Set(s.rows.map((row) => row.existingUsers))]) {
      const reg = s.rows.find((row) => row.existingUsers === size && row.operation === 'register');
      const ver = s.rows.find((row) => row.existingUsers === size && row.operation === 'verify');
      if (!reg || !ver) continue;
      out.push(`| ${num(size)} | ${ms(reg.latencyMs.p50)} / ${ms(reg.latencyMs.p99)} | ${ms(ver.latencyMs.p50)} / ${ms(ver.latencyMs.p99)} | ${num(reg.opsPerSecond.median)} | ${num(ver.opsPerSecond.median)} | ${reg.loadSeconds.toFixed(1)} |`);
    }
    out.push('', `p99 at the largest size / p99 at the smallest: register ${s.p99Ratio.register.toFixed(2)}, verify ${s.p99Ratio.verify.toFixed(2)} (target ≤ 1.3).`, '');
  }
  if (r.plans) {
    if (!r.plans.available) out.push(`**Plans**: not available (${r.plans.reason ?? ''}).`, '');
    else {
      const seq = r.plans.sequentialScans;
      out.push(`**Plans** of the ${r.plans.plans.length} statements the functions ran at the largest size (auto_explain, nested statements and foreign-key checks included; full output in \`bench/results/plans.txt\`): ${seq.length === 0 ? 'index access only, no sequential scan.' : `sequential scans: ${seq.map((x) => `\`${x}\``).join('; ')}.`}`, '');
    }
  }
  if (r.contention) {
    out.push('**Contention** (sessions registering one address at once; time until all finished, median over rounds; outcomes summed):', '');
    out.push('| sessions | throttle | all finished ms | outcomes |', '|--:|---|--:|---|');
    for (const c of r.contention) out.push(`| ${c.sessions} | ${c.throttle} | ${ms(c.allFinishedMs)} | ${Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
    out.push('');
  }
  if (r.cli) out.push(formatCliStartup(r.cli), '');
  if (r.migrationFiles) out.push('**Migration files** (`migrate up` against psql, the CLI’s peak memory and lint time by size; targets: up within 1.5 × psql, time and memory linear in the size):', '', formatMigrationFileRows(r.migrationFiles), '');
  if (r.profile) {
    const p = r.profile;
    out.push(`**Profile** (findings, not targets; ${p.operations} operations per path through pg at concurrency 1 for WAL, 4 for multixacts):`, '');
    out.push('| path | WAL bytes/op without full-page images | full-page image bytes/op | multixacts/op | WAL records/op |', '|---|--:|--:|--:|---|');
    for (const w of p.wal) {
      const records = Object.entries(w.recordsPerOp).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
      out.push(`| ${w.path} | ${num(w.walRecordBytesPerOp ?? w.walBytesPerOp)} | ${w.fullPageImageBytesPerOp === undefined ? '–' : num(w.fullPageImageBytesPerOp)} | ${w.multixactsPerOp} | ${records || '–'} |`);
    }
    if (p.statements.length > 0) {
      out.push('', 'Statements of `register_user_with_token` (new address, concurrency 4) by total time (pg_stat_statements, track = all):', '');
      out.push('| statement | top level | calls | mean ms | total ms | blocks dirtied | WAL bytes |', '|---|---|--:|--:|--:|--:|--:|');
      for (const s of p.statements) out.push(`| \`${s.query.slice(0, 110).replace(/\|/g, '\\|')}${s.query.length > 110 ? '…' : ''}\` | ${s.toplevel ? 'yes' : 'no'} | ${s.calls} | ${s.meanMs} | ${num(s.totalMs)} | ${s.sharedBlocksDirtied} | ${num(s.walBytes)} |`);
    }
    for (const note of p.notes) out.push('', note);
    out.push('');
  }
  if (r.inputBounds) out.push(...formatInputBounds(r.inputBounds));
  if (r.purge) out.push(...formatPurge(r.purge));
  return `${out.join('\n')}\n`;
}

