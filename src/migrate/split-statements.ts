/** One top-level statement of a file and where it starts in it. */
export interface SqlStatement {
  readonly text: string;
  /** Characters before the statement in the file (add to the server's 1-based `position`). */
  readonly offset: number;
}

/**
 * Splits a file into its top-level statements with the PostgreSQL parser
 * (libpg-query), so that each can be sent on its own: a multi-statement
 * query runs as one implicit transaction, where `CREATE INDEX CONCURRENTLY`
 * is refused. Text the parser rejects comes back whole, for the server to
 * report the syntax error with its position.
 */
export async function splitStatements(sql: string): Promise<readonly SqlStatement[]> {
  const { parse } = await import('libpg-query');
  const result = await parse(sql).catch(() => undefined);
  if (!result) return [{ text: sql, offset: 0 }];
  // The parser counts UTF-8 bytes; JavaScript strings count UTF-16 units.
  const bytes = Buffer.from(sql, 'utf8');
  return (result.stmts ?? []).map(({ stmt_location: start = 0, stmt_len: length = 0 }) => ({
    text: bytes.subarray(start, length === 0 ? undefined : start + length).toString('utf8'),
    offset: bytes.subarray(0, start).toString('utf8').length,
  }));
}
