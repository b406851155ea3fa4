import type { ClientBase, Connection, Submittable } from 'pg';

/** A pipeline that stopped at a statement: the server's error, and how many statements before it completed. */
export class PipelineStopped extends Error {
  constructor(
    /** The server's error (a `DatabaseError`), or the connection's. */
    readonly error: unknown,
    /** Statements of the pipeline that completed before the one that failed. */
    readonly completed: number,
  ) {
    super('a pipelined statement failed', { cause: error });
  }
}

/**
 * Sends `texts` as one pipeline of the extended protocol — Parse, Bind,
 * Execute for each, one Sync after the last — and resolves once the server
 * answered the Sync. The server runs them in order, one statement per Parse
 * (a text that holds two statements is refused, as with one statement at a
 * time), and stops at the first that fails, skipping the rest up to the Sync;
 * the rejection ({@link PipelineStopped}) says how many completed.
 *
 * Only inside a transaction block: outside one, PostgreSQL runs the messages
 * up to a Sync as one implicit transaction, which is not what a
 * no-transaction file asks for. Rows that statements return are not read.
 */
export function runPipeline(client: ClientBase, texts: readonly (string | typeof PREPARED)[], prepared?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    void client.query(new StatementPipeline(texts, prepared, resolve, reject));
  });
}

/**
 * In {@link runPipeline}'s texts: run the pipeline's prepared statement (its
 * `prepared` text, parsed once at the pipeline's start) rather than parse a text.
 */
export const PREPARED: unique symbol = Symbol('the pipeline\'s prepared statement');

/** The name the pipeline's prepared statement has on the server, for the pipeline's length. */
const PREPARED_NAME = 'authdb_pipeline_prepared';

/** The query object node-postgres hands the connection to, and the server's answers to. */
class StatementPipeline implements Submittable {
  #completed = 0;
  #settled = false;

  constructor(
    private readonly texts: readonly (string | typeof PREPARED)[],
    private readonly prepared: string | undefined,
    private readonly resolve: () => void,
    private readonly reject: (error: PipelineStopped) => void,
  ) {}

  submit(connection: Connection): void {
    const { stream } = connection;
    // One write for the pipeline rather than three per statement.
    stream.cork();
    if (this.prepared !== undefined) {
      // Closing a statement that does not exist is no error.
      connection.close({ type: 'S', name: PREPARED_NAME }, true);
      connection.parse({ text: this.prepared, name: PREPARED_NAME, types: [] }, true);
    }
    for (const text of this.texts) {
      if (text === PREPARED) connection.bind({ statement: PREPARED_NAME }, true);
      else {
        connection.parse({ text, name: '', types: [] }, true);
        connection.bind({}, true);
      }
      connection.execute({}, true);
    }
    connection.sync();
    process.nextTick(() => {
      stream.uncork();
    });
  }

  handleCommandComplete(): void {
    this.#completed++;
  }

  handleError(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.reject(new PipelineStopped(error, this.#completed));
  }

  handleReadyForQuery(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.resolve();
  }

  /** Never asked for (COPY FROM stdin is refused before a run): fail it rather than wait for data. */
  handleCopyInResponse(connection: Connection): void {
    (connection as Connection & { sendCopyFail(message: string): void }).sendCopyFail('authdb sends no COPY data');
  }

  // Rows and their descriptions are not read; the rest needs no answer.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
}
