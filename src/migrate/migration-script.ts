import type { IndexStmt } from 'libpg-query';
import { parseStatementOutlines, type ParsedStatement } from '../sql/parse.js';
import { clientCopyProblem, psqlOnlyProblem } from '../sql/psql-only.js';
import { readingSettingProblem } from '../sql/session-reading.js';
import type { SqlSource } from '../sql/sql-source.js';
import { transactionControl, transactionControlMessage } from '../sql/transaction-control.js';
import { MigrationFileError } from './errors.js';
import { parseDirectives } from './migration-file.js';

/** What the executor keeps of a parsed statement: where it is, and what it needs to explain a failure. */
export interface ScriptStatement {
  /** 0-based position among the file's statements. */
  readonly index: number;
  /** UTF-8 byte offsets of the first token and just past the statement. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the first token. */
  readonly line: number;
  /** Set for `CREATE INDEX CONCURRENTLY`: it leaves an INVALID index behind when it fails. */
  readonly concurrentIndex?: ConcurrentIndex;
  /** Set for `DEALLOCATE` and `DISCARD`: they can remove the session's prepared statements, the engine's among them. */
  readonly dropsPrepared?: true;
}

/** The index a `CREATE INDEX CONCURRENTLY` builds. */
export interface ConcurrentIndex {
  /** Undefined when the statement lets PostgreSQL choose the name. */
  readonly name?: string;
  /** Schema written in the statement; undefined means the search path's (the target schema). */
  readonly schema?: string;
  readonly table: string;
}

/** One up or down file, decoded and parsed, ready to run statement by statement. */
export interface MigrationScript {
  readonly path: string;
  readonly source: SqlSource;
  /** False when the first line is `-- authdb:no-transaction`. */
  readonly transaction: boolean;
  readonly statements: readonly ScriptStatement[];
}

/**
 * Parses every file of a run before its first statement runs, and refuses
 * them all at once (each problem with its file:line:column) when one does not
 * parse or, running in authdb's transaction, controls the transaction itself.
 */
export async function prepareScripts(files: readonly SqlSource[]): Promise<MigrationScript[]> {
  // One at a time: the parse tree of a large file is many times its size, and only a summary of it is kept.
  const outcomes = [];
  for (const file of files) outcomes.push(await prepareScript(file));
  const problems = outcomes.flatMap((o) => ('problems' in o ? o.problems : []));
  if (problems.length > 0) throw new MigrationFileError('migration files that cannot run; nothing was run:', problems);
  return outcomes.flatMap((o) => ('script' in o ? [o.script] : []));
}

async function prepareScript(source: SqlSource): Promise<{ script: MigrationScript } | { problems: string[] }> {
  const where = (offset: number): string => {
    const { line, column } = source.lines.position(offset);
    return `${source.path}:${line}:${column}`;
  };
  const parsed = await parseStatementOutlines(source);
  if (!parsed.ok) {
    const psqlOnly = await psqlOnlyProblem(source, parsed.offset);
    return { problems: [`${where(parsed.offset)}: ${psqlOnly ?? `PostgreSQL cannot parse this file: ${parsed.message}`}`] };
  }
  const { transaction } = parseDirectives(source.text);
  const problems = parsed.statements.flatMap((s) => {
    const refused = clientCopyProblem(s) ?? readingSettingProblem(s);
    if (refused !== undefined) return [`${where(s.start)}: ${refused}`];
    const command = transaction ? transactionControl(s) : undefined;
    return command === undefined ? [] : [`${where(s.start)}: ${transactionControlMessage(command)}`];
  });
  if (problems.length > 0) return { problems };
  return { script: { path: source.path, source, transaction, statements: parsed.statements.map((s, position) => scriptStatement(source, s, position)) } };
}

function scriptStatement(source: SqlSource, s: ParsedStatement, position: number): ScriptStatement {
  const base = {
    index: position,
    start: s.start,
    end: s.end,
    line: source.lines.lineOf(s.start),
    ...((s.type === 'DeallocateStmt' || s.type === 'DiscardStmt') && { dropsPrepared: true as const }),
  };
  const index = s.type === 'IndexStmt' ? (s.body as IndexStmt) : undefined;
  if (index?.concurrent !== true) return base;
  const concurrentIndex: ConcurrentIndex = {
    ...(index.idxname !== undefined && { name: index.idxname }),
    ...(index.relation?.schemaname !== undefined && { schema: index.relation.schemaname }),
    table: index.relation?.relname ?? '',
  };
  return { ...base, concurrentIndex };
}
