import type { MigratorEvent } from '../migrate/migrator.js';
import { errorCode } from './describe-error.js';
import type { Output } from './output.js';

/** One migration a run applied or reverted. */
export interface RunReportMigration {
  readonly name: string;
  readonly direction: 'up' | 'down';
  readonly durationMs: number;
}

/**
 * What `migrate up --json` / `migrate down --json` print on stdout, one
 * document per run, success or failure: the migrations completed (and kept)
 * in order, and on failure authdb's code (or the server's SQLSTATE) and the
 * message stderr also shows. The exit code is the same as without `--json`.
 */
export interface RunReport {
  readonly command: 'migrate up' | 'migrate down';
  readonly schema: string;
  readonly ok: boolean;
  readonly migrations: readonly RunReportMigration[];
  readonly error?: { readonly code: string | null; readonly message: string };
}

/** Collects a run's completed migrations from the migrator's events, and prints the report once. */
export class RunReporter {
  readonly #migrations: RunReportMigration[] = [];

  constructor(
    readonly command: RunReport['command'],
    readonly schema: string,
  ) {}

  /** The migrator's event handler for the per-file lines `--json` replaces. */
  record(event: Extract<MigratorEvent, { type: 'applied' | 'reverted' }>): void {
    this.#migrations.push({ name: event.name, direction: event.type === 'applied' ? 'up' : 'down', durationMs: Math.round(event.durationMs * 1000) / 1000 });
  }

  /** Runs `work`; prints the report on stdout whether it succeeds or throws (and rethrows). */
  async around<T>(output: Output, work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.#print(output);
      return result;
    } catch (error) {
      this.#print(output, error);
      throw error;
    }
  }

  #print(output: Output, error?: unknown): void {
    const report: RunReport = {
      command: this.command,
      schema: this.schema,
      ok: error === undefined,
      migrations: this.#migrations,
      ...(error !== undefined && { error: { code: errorCode(error) ?? null, message: error instanceof Error ? error.message : JSON.stringify(error) } }),
    };
    output.out(JSON.stringify(report, null, 2));
  }
}
