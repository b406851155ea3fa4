import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CreateStmt, CreateTableAsStmt, DropStmt, IndexStmt, Node } from 'libpg-query';
import { parseDirectives } from '../migrate/migration-file.js';
import { LintFileError } from './errors.js';
import { nodeOf, relationName, strings } from './node-utils.js';
import type { Position } from '../sql/line-index.js';
import { commentsContaining, parseStatements, type ParsedStatement, type ParseOutcome } from '../sql/parse.js';
import { decodeSql, readSql, type DecodeOutcome, type SqlSource, type SqlSourceProblem } from '../sql/sql-source.js';
import type { Rule, RuleContext } from './rule.js';
import { RULES } from './rules/index.js';
import { readSuppressions, SUPPRESSION_MARKER, SUPPRESSION_RULES, type Suppression } from './suppressions.js';

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
  const decoded = decodeSql(source.path, Buffer.from(source.sql, 'utf8'));
  if (!decoded.ok) return encodingReport(decoded.problem);
  return lintSource(decoded.source, source, await parseStatements(decoded.source));
}

/** Lints a decoded file, given its parse. */
async function lintSource(sql: SqlSource, source: Omit<LintSource, 'sql'>, parsed: ParseOutcome): Promise<LintReport> {
  const position = (offset: number): Position => sql.lines.position(offset);
  if (!parsed.ok) {
    const message = `PostgreSQL cannot parse this file: ${parsed.message}`;
    return { files: [source.path], findings: [{ rule: 'parse-error', severity: 'error', file: source.path, ...position(parsed.offset), message }], suppressed: [] };
  }
  const { statements } = parsed;
  const rules = source.rules ?? RULES;
  const context = ruleContext(sql, statements, source);
  const comments = await commentsContaining(sql, statements, SUPPRESSION_MARKER);
  const { suppressions, problems } = readSuppressions(comments, position, new Set(rules.map((r) => r.id)));
  const coverage = suppressionCoverage(suppressions, statements);
  const used = new Set<Suppression>();
  const findings: LintFinding[] = problems.map((p) => ({ rule: p.rule, severity: 'error', file: source.path, ...p.at, message: p.message }));
  const suppressed: SuppressedFinding[] = [];
  for (const rule of rules) {
    for (const h of rule.check(context)) {
      const finding: LintFinding = { rule: rule.id, severity: 'error', file: source.path, ...position(h.location ?? h.statement.start), message: h.message };
      const by = coverage(rule.id, finding.line, h.statement.index);
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
 * Lints the files named, and only those. For a `DROP INDEX` of an index none
 * of them creates, it looks for the `CREATE INDEX` in the `*.up.sql` files
 * next to them, parsing only the ones whose text mentions that index.
 */
export async function lintFiles(paths: readonly string[]): Promise<LintReport> {
  const reports: LintReport[] = [];
  const parsedFiles: { source: SqlSource; parsed: ParseOutcome }[] = [];
  for (const path of paths) {
    const decoded = await read(path);
    if (!decoded.ok) reports.push(encodingReport(decoded.problem));
    else parsedFiles.push({ source: decoded.source, parsed: await parseStatements(decoded.source) });
  }
  const indexTables = new Map<string, string>();
  for (const { parsed } of parsedFiles) for (const [index, table] of indexTablesOf(parsed)) indexTables.set(index, table);
  const unknown = new Set(parsedFiles.flatMap(({ parsed }) => droppedIndexes(parsed)).filter((index) => !indexTables.has(index)));
  if (unknown.size > 0) for (const [index, table] of await siblingIndexTables(paths, unknown)) indexTables.set(index, table);
  for (const { source, parsed } of parsedFiles) reports.push(await lintSource(source, { path: source.path, indexTables }, parsed));
  const byFile = new Map(reports.map((r) => [r.files[0], r]));
  const ordered = paths.flatMap((p) => byFile.get(p) ?? []);
  return {
    files: paths,
    findings: ordered.flatMap((r) => r.findings),
    suppressed: ordered.flatMap((r) => r.suppressed),
  };
}

/** Every `*.up.sql` and `*.down.sql` in `dir`, sorted by name. */
export async function migrationFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch((error: unknown) => {
    throw new LintFileError(`cannot read the migrations directory ${dir}: ${(error as Error).message}`, { cause: error });
  });
  return entries.filter((f) => /\.(up|down)\.sql$/.test(f)).sort().map((f) => join(dir, f));
}

/** A file that is not strict UTF-8 (or holds a NUL) cannot be linted: one finding, at its line and byte. */
function encodingReport(problem: SqlSourceProblem): LintReport {
  const finding: LintFinding = {
    rule: 'file-encoding',
    severity: 'error',
    file: problem.path,
    line: problem.line,
    column: problem.byteInLine,
    message: `${problem.message} (byte ${problem.byteInLine} of the line)`,
  };
  return { files: [problem.path], findings: [finding], suppressed: [] };
}

/** `index name → table name` for every `CREATE INDEX` of a parsed file. */
function indexTablesOf(parsed: ParseOutcome): Map<string, string> {
  const map = new Map<string, string>();
  if (!parsed.ok) return map;
  for (const s of parsed.statements) {
    const body = s.body as IndexStmt;
    if (s.type === 'IndexStmt' && body.idxname !== undefined) map.set(body.idxname, relationName(body.relation));
  }
  return map;
}

/** Index names of every `DROP INDEX` of a parsed file. */
function droppedIndexes(parsed: ParseOutcome): string[] {
  if (!parsed.ok) return [];
  return parsed.statements.flatMap((s) => {
    const body = s.body as DropStmt;
    if (s.type !== 'DropStmt' || body.removeType !== 'OBJECT_INDEX') return [];
    return (body.objects ?? []).map((o: Node) => strings(nodeOf(o, 'List')?.items).at(-1) ?? '');
  });
}

/** Which table each of `wanted` is on, from the `*.up.sql` files next to `paths` that mention it. */
async function siblingIndexTables(paths: readonly string[], wanted: ReadonlySet<string>): Promise<Map<string, string>> {
  const named = new Set(paths.map((p) => resolve(p)));
  const dirs = [...new Set(paths.map((p) => dirname(resolve(p))))];
  const found = new Map<string, string>();
  for (const dir of dirs) {
    const siblings = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.up.sql')).sort().map((f) => join(dir, f));
    for (const path of siblings.filter((p) => !named.has(p))) {
      const decoded = await readSql(path).catch(() => undefined);
      if (!decoded?.ok) continue;
      const text = decoded.source.text.toLowerCase();
      if (![...wanted].some((index) => text.includes(index.toLowerCase()))) continue;
      for (const [index, table] of indexTablesOf(await parseStatements(decoded.source))) if (wanted.has(index)) found.set(index, table);
    }
  }
  return found;
}

function ruleContext(sql: SqlSource, statements: readonly ParsedStatement[], source: Omit<LintSource, 'sql'>): RuleContext {
  // First statement creating each table, last one dropping it: answers in O(1), not a scan per question.
  const createdAt = new Map<string, number>();
  const droppedAt = new Map<string, number>();
  const ownIndexes = new Map<string, string>();
  for (const s of statements) {
    const created = createdTable(s);
    if (created !== undefined && !createdAt.has(created)) createdAt.set(created, s.index);
    for (const table of droppedTables(s)) droppedAt.set(table, s.index);
    const body = s.body as IndexStmt;
    if (s.type === 'IndexStmt' && body.idxname !== undefined) ownIndexes.set(body.idxname, relationName(body.relation));
  }
  return {
    direction: source.direction ?? (basename(source.path).endsWith('.down.sql') ? 'down' : 'up'),
    transactional: parseDirectives(sql.text).transaction,
    statements,
    createdBefore: (index, table) => (createdAt.get(table) ?? Infinity) < index,
    droppedAfter: (index, table) => (droppedAt.get(table) ?? -Infinity) > index,
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
 * Which suppression covers a finding of `rule` on `line` in statement
 * `statementIndex`: a file suppression; a line suppression on that line or
 * the line before; or one standing between statements, for every finding of
 * the statement that follows it. Indexed once, so each question is O(1).
 */
function suppressionCoverage(
  suppressions: readonly Suppression[],
  statements: readonly ParsedStatement[],
): (rule: string, line: number, statementIndex: number) => Suppression | undefined {
  const fileWide: Suppression[] = [];
  const byLine = new Map<number, Suppression[]>();
  const byStatement = new Map<number, Suppression[]>();
  const add = (map: Map<number, Suppression[]>, key: number, s: Suppression): void => {
    const list = map.get(key) ?? [];
    list.push(s);
    map.set(key, list);
  };
  let cursor = 0;
  for (const s of [...suppressions].sort((a, b) => a.comment.start - b.comment.start)) {
    if (s.scope === 'file') {
      fileWide.push(s);
      continue;
    }
    add(byLine, s.at.line, s);
    add(byLine, s.at.line + 1, s);
    const start = s.comment.start;
    while (cursor < statements.length && (statements[cursor]?.end ?? 0) <= start) cursor++;
    const next = statements[cursor];
    // Inside a statement, or before the next one's first token.
    if (next !== undefined && next.start > start) add(byStatement, next.index, s);
  }
  return (rule, line, statementIndex) => {
    const candidates = [...fileWide, ...(byLine.get(line) ?? []), ...(byStatement.get(statementIndex) ?? [])];
    return candidates.find((s) => s.rules.includes(rule));
  };
}

function sortFindings<T extends LintFinding>(findings: T[]): T[] {
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

async function read(path: string): Promise<DecodeOutcome> {
  return readSql(path).catch((error: unknown) => {
    throw new LintFileError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  });
}
