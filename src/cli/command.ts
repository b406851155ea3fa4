import type { Output } from './output.js';

/** One CLI command: its help text and what it does. Returns the exit code. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(argv: readonly string[], output: Output, env: NodeJS.ProcessEnv): Promise<number>;
}

/** Prints a command's help on stdout; exit code 0. */
export function help(output: Pick<Output, 'out'>, text: string): number {
  output.out(text);
  return 0;
}
