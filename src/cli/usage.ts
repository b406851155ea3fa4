import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Shared by every command. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpec;

/** Strict parse: unknown options and missing values become {@link UsageError}s. */
export function parseCommand<const T extends OptionSpec>(
  argv: readonly string[],
  options: T,
  positionals: { min: number; max: number },
): ParsedCommand<T> {
  let parsed: { values: object; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...HELP_OPTION, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const count = parsed.positionals.length;
  const values = parsed.values as ParsedCommand<T>['values'];
  const help = values.help === true;
  if (!help && (count < positionals.min || count > positionals.max)) {
    throw new UsageError(
      count < positionals.min ? 'missing argument' : `unexpected argument${count - positionals.max > 1 ? 's' : ''}: ${parsed.positionals.slice(positionals.max).join(' ')}`,
    );
  }
  return { values, positionals: parsed.positionals };
}

/** Option values by name (booleans for flags, strings otherwise, arrays for repeatable options) and the positionals. */
export interface ParsedCommand<T extends OptionSpec> {
  readonly values: { readonly [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K] extends { readonly multiple: true } ? readonly string[] : string } & {
    readonly help?: boolean;
  };
  readonly positionals: readonly string[];
}

const DURATION = /^(\d+)\s*(ms|s|min|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or a bare number of milliseconds (as PostgreSQL reads it). */
export function parseDuration(option: string, value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new UsageError(`--${option}: "${value}" is not a duration (examples: 500ms, 30s, 2m)`);
  return Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
}

/** A positive whole number. */
export function parsePositiveInteger(option: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${option}: "${value}" is not a positive whole number`);
  return Number(value);
}
