import { parseStatementOutlines, type ParsedStatement } from './parse.js';
import { decodeSql, type SqlSource } from './sql-source.js';

// What psql accepts in a file but PostgreSQL does not: meta-commands
// (backslash lines psql runs itself) and the data block after
// `COPY … FROM stdin`, which psql sends over the COPY protocol. authdb sends
// SQL statements only, so each of these is refused before anything runs,
// naming the line and what to write instead.

/** Why `COPY` to or from the client cannot run in a migration, or undefined for a server-side COPY. */
export function clientCopyProblem(statement: Pick<ParsedStatement, 'type' | 'body'>): string | undefined {
  if (statement.type !== 'CopyStmt' || statement.body.filename !== undefined) return undefined;
  return statement.body.is_from === true
    ? 'COPY … FROM stdin reads rows the client sends after it (psql sends the lines that follow, up to "\\."); ' +
        'authdb sends SQL statements only: write the rows as INSERT … VALUES, or load them after the migration with psql\'s \\copy'
    : 'COPY … TO stdout sends rows to the client, which a migration has no use for; remove it (or use psql\'s \\copy outside the migration)';
}

const META_COMMAND = /^\s*\\([A-Za-z.!?]*)/;

/** Why the line that failed to parse is a psql meta-command, or undefined when it is not one. */
export function metaCommandProblem(line: string): string | undefined {
  const match = META_COMMAND.exec(line);
  if (!match) return undefined;
  const command = match[1] ?? '';
  const instead: Readonly<Record<string, string>> = {
    set: 'authdb stops at the first error and has no variables; remove it',
    connect: 'a migration runs in the database authdb connects to (--database-url); remove it',
    c: 'a migration runs in the database authdb connects to (--database-url); remove it',
    i: 'put the included SQL in this file or in a migration of its own',
    ir: 'put the included SQL in this file or in a migration of its own',
    '.': 'it ends a COPY data block: write the rows as INSERT … VALUES',
    gexec: 'write the statements out, or generate them in a DO block with EXECUTE',
  };
  return `\\${command} is a psql meta-command, not SQL; authdb sends SQL statements only: ${instead[command] ?? 'remove it, or run this file with psql instead'}`;
}

/**
 * Why a file psql would run does not parse, when that is the reason: the
 * failing line is a meta-command, or it follows a `COPY … FROM stdin` (its
 * data block). Undefined for a plain syntax error.
 */
export async function psqlOnlyProblem(source: SqlSource, errorOffset: number): Promise<string | undefined> {
  const line = source.lines.lineOf(errorOffset);
  const meta = metaCommandProblem(source.lines.lineText(line));
  if (meta !== undefined) return meta;
  const before = decodeSql(source.path, source.bytes.subarray(0, source.lines.lineStart(line)));
  if (!before.ok) return undefined;
  const parsed = await parseStatementOutlines(before.source);
  const last = parsed.ok ? parsed.statements.at(-1) : undefined;
  const copy = last === undefined ? undefined : clientCopyProblem(last);
  return copy === undefined ? undefined : `this line is the data block of the COPY on line ${source.lines.lineOf(last?.start ?? 0)}: ${copy}`;
}
