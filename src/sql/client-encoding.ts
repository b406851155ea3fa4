import type { VariableSetStmt } from 'libpg-query';
import type { ParsedStatement } from './parse.js';

/**
 * Why a statement that sets `client_encoding` (`SET client_encoding …`,
 * `SET NAMES …`) cannot run in a migration, or undefined. authdb reads and
 * sends every file as UTF-8; after such a statement the server would read the
 * bytes of the statements that follow in another encoding (in SJIS, `ぁ\`
 * loses its backslash), running statements other than the ones parsed and
 * reviewed. RESET and SET … TO DEFAULT go back to the session's UTF8.
 */
export function clientEncodingProblem(statement: Pick<ParsedStatement, 'type' | 'body'>): string | undefined {
  if (statement.type !== 'VariableSetStmt') return undefined;
  const body = statement.body as VariableSetStmt;
  if (body.name !== 'client_encoding' || body.kind === 'VAR_RESET' || body.kind === 'VAR_SET_DEFAULT') return undefined;
  return clientEncodingMessage('this statement sets client_encoding');
}

/** What follows a change of client_encoding, for the statement that makes it and for one seen only once it ran. */
export function clientEncodingMessage(what: string): string {
  return (
    `${what}, but authdb sends every migration file as UTF-8 and the server would read the statements after it in another ` +
    'encoding (not the ones authdb parsed); remove it: a migration file is UTF-8'
  );
}
