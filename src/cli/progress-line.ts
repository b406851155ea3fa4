import { basename } from 'node:path';
import type { MigratorEvent } from '../migrate/migrator.js';
import type { Output } from './output.js';

type ProgressEvent = Extract<MigratorEvent, { type: 'progress' }>;

/** A file with more statements than this shows its progress (it takes more than one round trip). */
const MIN_STATEMENTS = 1000;
/** The status line changes at most this often, except for the file's last statement. */
const INTERVAL_MS = 100;

/**
 * Statements done of a long file, as a status line on a terminal
 * (`authdb: 20990101_seed.up.sql: 51,000 of 128,520 statements (39%)`);
 * nothing when stderr is not a terminal ({@link Output.status} undefined).
 */
export class ProgressLine {
  readonly #output: Output;
  #shownAt = 0;

  constructor(output: Output) {
    this.#output = output;
  }

  show({ file, done, total }: ProgressEvent): void {
    const status = this.#output.status;
    if (status === undefined || total <= MIN_STATEMENTS) return;
    const now = performance.now();
    if (done < total && now - this.#shownAt < INTERVAL_MS) return;
    this.#shownAt = now;
    const percent = Math.floor((done / total) * 100);
    status(`authdb: ${basename(file.path)}: `, `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} statements (${percent}%)`);
  }
}
