import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CreateStmt, CreateTableAsStmt, DropStmt, IndexStmt, Node } from 'libpg-query';
import { parseDirectives } from '../migrate/migration-file.js';
import { LintFileError } from './errors.js';
import { nodeOf, relationName, strings } from './node-utils.js';
import { parseSql, type ParsedSql, type ParsedStatement } from './parse-sql.js';
import type { Rule, RuleContext, RuleHit } from './rule.js';
import { RULES } from './rules/index.js';
import { readSuppressions, SUPPRESSION_RULES, type Suppression } from './suppressions.js';

export type Severity = 'error' | 'warning';

/** One problem, located in a file. */
export interface LintFinding {
  readonly rule: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A finding an `authdb-lint-ignore` comment suppressed, with its reason. */
export interface SuppressedFinding extends LintFinding {
  readonly reason: string;
}

export interface LintReport {
  readonly files: readonly string[];
  readonly findings: readonly LintFinding[];
  readonly suppressed: readonly SuppressedFinding[];
}

export interface LintSource {
  readonly path: string;
  readonly sql: string;
  /** Default: `down` when the name ends in `.down.sql`, else `up`. */
  readonly direction?: 'up' | 'down';
  /** Which table each index is on, from other migration files (for `DROP INDEX`). Default is none. */
  readonly indexTables?: ReadonlyMap<string, string>;
  /** Default is {@link RULES}. */
  readonly rules?: readonly Rule[];
}

/**
 * Lints one migration file in memory (pure: no file system, no database).
 *
 * @example
 * const { findings } = await lintSql({ path: 'x.up.sql', sql: 'CREATE INDEX i ON users (email);' });
 * // [{ rule: 'index-without-concurrently', line: 1, … }]
 */
export async function lintSql(source: LintSource): Promise<LintReport> {
  const outcome = await parseSql(source.sql);
  if (!outcome.ok) {
    const { line, column } = outcome.at;
    const message = `PostgreSQL cannot parse this file: ${outcome.message}`;
    return { files: [source.path], findings: [{ rule: 'parse-error', severity: 'error', file: source.path, line, column, message }], suppressed: [] };
  }
  const rules = source.rules ?? RULES;
  const context = ruleContext(outcome.sql, source);
  const { suppressions, problems } = readSuppressions(outcome.sql.comments, outcome.sql.position, new Set(rules.map((r) => r.id)));
  const used = new Set<Suppression>();
  const findings: LintFinding[] = problems.map((p) => ({ rule: p.rule, severity: 'error', file: source.path, ...p.at, message: p.message }));
  const suppressed: SuppressedFinding[] = [];
  for (const rule of rules) {
    for (const h of rule.check(context)) {
      const finding: LintFinding = { rule: rule.id, severity: 'error', file: source.path, ...outcome.sql.position(h.location ?? h.statement.start), message: h.message };
      const by = suppressions.find((s) => s.rules.includes(rule.id) && covers(s, h, finding, outcome.sql));
      if (by) {
        used.add(by);
        suppressed.push({ ...finding, reason: by.reason });
      } else findings.push(finding);
    }
  }
  for (const s of suppressions.filter((x) => !used.has(x))) {
    findings.push({
      rule: SUPPRESSION_RULES.unused,
      severity: 'warning',
      file: source.path,
      ...s.at,
      message: `this authdb-lint-ignore${s.scope === 'file' ? '-file' : ''} ${s.rules.join(', ')} suppresses nothing${s.scope === 'line' ? ' on this line, the next one or the statement after it' : ''}; remove it`,
    });
  }
  return { files: [source.path], findings: sortFindings(findings), suppressed: sortFindings(suppressed) };
}

/**
 * Lints files from disk. For `DROP INDEX` it learns which table each index
 * is on from the `CREATE INDEX` statements of every `*.up.sql` next to them.
 */
export async function lintFiles(paths: readonly string[]): Promise<LintReport> {
  const sources = await Promise.all(paths.map(async (path) => ({ path, sql: await read(path) })));
  const indexTables = new Map<string, string>();
  const dirs = [...new Set(paths.map((p) => dirname(resolve(p))))];
  const siblings = (await Promise.all(dirs.map(async (dir) => (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.up.sql')).map((f) => join(dir, f))))).flat();
  for (const sql of [...(await Promise.all(siblings.map(read))), ...sources.map((s) => s.sql)]) {
    for (const [index, table] of await indexTablesOf(sql)) indexTables.set(index, table);
  }
  const reports = [];
  for (const source of sources) reports.push(await lintSql({ ...source, indexTables }));
  return {
    files: paths,
    findings: reports.flatMap((r) => r.findings),
    suppressed: reports.flatMap((r) => r.suppressed),
  };
}

/** Every `*.up.sql` and `*.down.sql` in `dir`, sorted by name. */
export async function migrationFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((error: unknown) => {
    throw new LintFileError(`cannot read the migrations directory ${dir}: ${(error as Error).message}`, { cause: error });
  });
  return entries.filter((f) => /\.(up|down)\.sql$/.test(f)).sort().map((f) => join(dir, f));
}

/** `index name → table name` for every `CREATE INDEX` in `sql` (nothing when it does not parse). */
async function indexTablesOf(sql: string): Promise<Map<string, string>> {
  const outcome = await parseSql(sql);
  const map = new Map<string, string>();
  if (!outcome.ok) return map;
  for (const s of outcome.sql.statements) {
    const body = s.body as IndexStmt;
    if (s.type === 'IndexStmt' && body.idxname !== undefined) map.set(body.idxname, relationName(body.relation));
  }
  return map;
}

function ruleContext(sql: ParsedSql, source: LintSource): RuleContext {
  const { statements } = sql;
  const created = statements.map(createdTable);
  const dropped = statements.map(droppedTables);
  const ownIndexes = new Map<string, string>();
  for (const s of statements) {
    const body = s.body as IndexStmt;
    if (s.type === 'IndexStmt' && body.idxname !== undefined) ownIndexes.set(body.idxname, relationName(body.relation));
  }
  return {
    direction: source.direction ?? (basename(source.path).endsWith('.down.sql') ? 'down' : 'up'),
    transactional: parseDirectives(source.sql).transaction,
    statements,
    createdBefore: (index, table) => created.some((t, i) => i < index && t === table),
    droppedAfter: (index, table) => dropped.some((tables, i) => i > index && tables.includes(table)),
    tableOfIndex: (index) => ownIndexes.get(index) ?? source.indexTables?.get(index),
  };
}

function createdTable(s: ParsedStatement): string | undefined {
  if (s.type === 'CreateStmt') return relationName((s.body as CreateStmt).relation);
  if (s.type === 'CreateTableAsStmt') return relationName((s.body as CreateTableAsStmt).into?.rel);
  return undefined;
}

function droppedTables(s: ParsedStatement): string[] {
  const body = s.body as DropStmt;
  if (s.type !== 'DropStmt' || body.removeType !== 'OBJECT_TABLE') return [];
  return (body.objects ?? []).map((o: Node) => strings(nodeOf(o, 'List')?.items).at(-1) ?? '');
}

/**
 * A line suppression covers findings on its own line and the next, and every
 * finding of the statement that follows it when it stands between statements.
 */
function covers(s: Suppression, h: RuleHit, finding: LintFinding, sql: ParsedSql): boolean {
  if (s.scope === 'file') return true;
  if (finding.line === s.at.line || finding.line === s.at.line + 1) return true;
  const start = s.comment.start;
  const insideStatement = sql.statements.some((st) => st.start < start && start < st.end);
  const next = sql.statements.find((st) => st.start > start);
  return !insideStatement && next?.index === h.statement.index;
}

function sortFindings<T extends LintFinding>(findings: T[]): T[] {
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

async function read(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: unknown) => {
    throw new LintFileError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  });
}
