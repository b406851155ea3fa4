import type { VariableSetStmt } from 'libpg-query';
import type { ParsedStatement } from './parse.js';

/**
 * The two settings that change how the server reads the bytes of a statement:
 * `client_encoding` (in SJIS, `ぁ\` is two characters and its backslash is
 * gone) and `standard_conforming_strings` (off, `'x\'` does not end at its
 * quote). authdb parses every file as UTF-8 with standard_conforming_strings
 * on, and sends it so; the server must read it the same way.
 */
export const READING_SETTINGS: Readonly<Record<string, string>> = { client_encoding: 'UTF8', standard_conforming_strings: 'on' };

/**
 * Why a `SET` (or `SET NAMES`) of one of {@link READING_SETTINGS} to another
 * value cannot run in a migration, or undefined. RESET and DEFAULT are left to
 * the run's checks (they go back to the session's values).
 */
export function readingSettingProblem(statement: Pick<ParsedStatement, 'type' | 'body'>): string | undefined {
  if (statement.type !== 'VariableSetStmt') return undefined;
  const body = statement.body as VariableSetStmt;
  const name = body.name ?? '';
  if (!(name in READING_SETTINGS) || body.kind !== 'VAR_SET_VALUE') return undefined;
  const values = (body.args ?? []).map((arg) => {
    const constant = (arg as { A_Const?: { sval?: { sval?: string }; boolval?: { boolval?: boolean }; ival?: { ival?: number } } }).A_Const;
    return constant?.sval?.sval ?? (constant?.boolval ? String(constant.boolval.boolval ?? false) : constant?.ival ? String(constant.ival.ival ?? 0) : undefined);
  });
  if (values.length === 1 && values[0] !== undefined && keepsReading(name, values[0])) return undefined;
  return readingChangeMessage(`this statement sets ${name}`);
}

/** Whether `value` of setting `name` reads bytes as authdb parsed them (`UTF-8`, `unicode`; `on`, `true`, `1`). */
function keepsReading(name: string, value: string): boolean {
  const normal = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  return name === 'client_encoding' ? normal === 'utf8' || normal === 'unicode' : ['on', 'true', 'yes', '1'].includes(normal);
}

/** What follows a change of how the server reads statements, for the statement that makes it and for one seen only once it ran. */
export function readingChangeMessage(what: string): string {
  return (
    `${what}, but authdb parses and sends every migration file as UTF-8 with standard_conforming_strings on, and the server ` +
    'would read the statements after it otherwise (not as authdb parsed them); remove it'
  );
}
