import { MigrationError } from '../migrate/errors.js';
import type { Command } from './command.js';
import { db } from './db.js';
import { migrateCreate } from './migrate-create.js';
import { migrateDown } from './migrate-down.js';
import { migrateStatus } from './migrate-status.js';
import { migrateUp } from './migrate-up.js';
import type { Output } from './output.js';
import { UsageError } from './usage.js';

const COMMANDS: readonly Command[] = [migrateUp, migrateDown, migrateStatus, migrateCreate, db];

const HELP = `Usage: authdb <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n')}

Run \`authdb <command> --help\` for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error.`;

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], output: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    output.out(HELP);
    return first === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second ?? ''}`) ?? COMMANDS.find((c) => c.name === first);
  if (!command && first === 'migrate') {
    const subcommands = COMMANDS.filter((c) => c.name.startsWith('migrate '));
    output.out(`Usage: authdb migrate <${subcommands.map((c) => c.name.slice('migrate '.length)).join('|')}> [options]\n\n${subcommands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n')}`);
    return second === '--help' || second === '-h' ? 0 : 2;
  }
  if (!command) return usageFailure(output, `unknown command "${[first, second].filter(Boolean).join(' ')}"`, 'authdb --help');
  try {
    return await command.run(argv.slice(command.name.split(' ').length), output, env);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(output, error.message, `authdb ${command.name} --help`);
    output.err(`authdb ${command.name}: error: ${describe(error)}`);
    return 1;
  }
}

function usageFailure(output: Output, message: string, helpCommand: string): number {
  output.err(`authdb: ${message}\nRun \`${helpCommand}\` for usage.`);
  return 2;
}

function describe(error: unknown): string {
  if (error instanceof MigrationError) return `${error.message} [${error.code}]`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `SQLSTATE ${code}: ${error.message}` : error.message;
  }
  return String(error);
}

