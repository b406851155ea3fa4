import type { Output } from './output.js';

/** What one CLI command does, and its help text. Returns the exit code. */
export interface Command {
  readonly help: string;
  run(argv: readonly string[], output: Output, env: NodeJS.ProcessEnv): Promise<number>;
}

/**
 * One CLI command as `authdb --help` lists it: name and summary, and the
 * module that implements it, loaded only when the command runs (so `--help`
 * and `--version` load none of pg, kysely, umzug or libpg-query).
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** Prints a command's help on stdout; exit code 0. */
export function help(output: Pick<Output, 'out'>, text: string): number {
  output.out(text);
  return 0;
}
