import type { OptionSpec } from './usage.js';

/** `--owner ROLE`: the role that owns the install, for the read-only commands' schema-trust check. */
export const OWNER_OPTION = {
  owner: { type: 'string' },
} as const satisfies OptionSpec;

/** Help line of {@link OWNER_OPTION}. */
export const OWNER_OPTION_LINE = `  --owner ROLE  the role that ran the migrations and owns the install
                (default: the connected role); the command refuses a schema
                or authdb_migrations that another role owns or may create in`;
