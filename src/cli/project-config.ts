import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CONFIG_FILE } from './config-file.js';
import { parseSourceList, splitList } from './source-option.js';

/** Each key of the file, the variable that overrides it and the flag that overrides both. */
export const PROJECT_KEYS = {
  schema: { env: 'AUTHDB_SCHEMA', flag: '--schema', path: false },
  migrationsDir: { env: 'AUTHDB_MIGRATIONS_DIR', flag: '--migrations-dir', path: true },
  appMigrations: { env: 'AUTHDB_APP_MIGRATIONS', flag: '--app-migrations', path: false },
  embeddedDir: { env: 'AUTHDB_EMBEDDED_DIR', flag: '--embedded-dir', path: true },
  contract: { env: 'AUTHDB_CONTRACT', flag: '--contract', path: true },
  typesOut: { env: 'AUTHDB_TYPES_OUT', flag: '--out (codegen)', path: true },
} as const;

export type ProjectKey = keyof typeof PROJECT_KEYS;

/** What the file holds before it is checked: anything JSON can express. */
export type UntrustedProjectFile = unknown;

/** The checked file: every key optional, paths already absolute. */
export type ProjectFileSettings = { readonly [K in ProjectKey]?: string };

/** A configuration file that is not valid: one error naming the file and every bad key. */
export class ProjectConfigError extends Error {
  readonly code = 'AUTHDB_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super([`${file} is not a valid authdb configuration; fix or remove it:`, ...problems.map((p) => `  ${p}`)].join('\n'));
    this.name = 'ProjectConfigError';
  }
}

/** Checks an untrusted parsed file; relative paths resolve against the file's directory. */
export function parseProjectFile(file: string, input: UntrustedProjectFile): ProjectFileSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ProjectConfigError(file, ['the file must hold one JSON object']);
  const problems: string[] = [];
  const settings: { [K in ProjectKey]?: string } = {};
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(PROJECT_KEYS, key)) {
      problems.push(`"${key}": unknown key (known: ${Object.keys(PROJECT_KEYS).join(', ')})`);
    } else if (key === 'appMigrations') {
      const entries = typeof value === 'string' ? splitList(value) : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
      if (entries === undefined || entries.length === 0) problems.push(`"${key}": must be "[NAME=]DIR" or a list of them, not ${JSON.stringify(value)}`);
      else {
        try {
          settings.appMigrations = parseSourceList(entries, dirname(file), `"${key}"`).map((s) => `${s.name}=${s.dir}`).join(',');
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
    } else if (typeof value !== 'string' || value === '') {
      problems.push(`"${key}": must be a non-empty string, not ${JSON.stringify(value)}`);
    } else {
      const name = key as ProjectKey;
      settings[name] = PROJECT_KEYS[name].path ? resolve(dirname(file), value) : value;
    }
  }
  if (problems.length > 0) throw new ProjectConfigError(file, problems);
  return settings;
}

/** Reads the file; a missing default file is no configuration, a missing named file is an error. */
export function readProjectFile(file: string, named: boolean): ProjectFileSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (!named && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ProjectConfigError(file, [`cannot read it: ${(error as Error).message}`]);
  }
  let input: UntrustedProjectFile;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ProjectConfigError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseProjectFile(file, input);
}

/** Where an effective value came from. */
export type ValueSource = { readonly kind: 'env'; readonly name: string } | { readonly kind: 'file'; readonly file: string } | { readonly kind: 'default' };

/** The project settings after env > file > default (flags are applied by each command on top). */
export interface ProjectSettings {
  readonly file: string;
  readonly values: { readonly [K in ProjectKey]?: { readonly value: string; readonly source: ValueSource } };
  /** The environment the commands read: each `AUTHDB_*` variable of {@link PROJECT_KEYS} set from the file where unset. */
  readonly env: NodeJS.ProcessEnv;
}

/** Takes `--config FILE` / `--config=FILE` out of a command's arguments. */
export function takeConfigFlag(argv: readonly string[]): { readonly argv: readonly string[]; readonly config?: string } {
  const rest: string[] = [];
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--config') {
      config = argv[i + 1];
      if (config === undefined || config === '') throw new ProjectConfigError('--config', ['--config needs a FILE']);
      i++;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else {
      rest.push(arg);
    }
  }
  return config === undefined ? { argv: rest } : { argv: rest, config };
}

/** The one resolver: environment over the configuration file; the result's `env` carries both to every command. */
export function resolveProjectSettings(env: NodeJS.ProcessEnv, cwd: string, config?: string): ProjectSettings {
  const file = resolve(cwd, config ?? CONFIG_FILE);
  const fromFile = readProjectFile(file, config !== undefined);
  const values: { [K in ProjectKey]?: { value: string; source: ValueSource } } = {};
  const effective: NodeJS.ProcessEnv = { ...env };
  for (const key of Object.keys(PROJECT_KEYS) as ProjectKey[]) {
    const name = PROJECT_KEYS[key].env;
    const set = env[name];
    const inFile = fromFile[key];
    if (set !== undefined && set !== '') values[key] = { value: set, source: { kind: 'env', name } };
    else if (inFile !== undefined) {
      values[key] = { value: inFile, source: { kind: 'file', file } };
      effective[name] = inFile;
    }
  }
  return { file, values, env: effective };
}
