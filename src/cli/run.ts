import { commandLinePasswordWarnings } from './command-line-passwords.js';
import type { CommandEntry } from './command.js';
import { describeError } from './describe-error.js';
import { COMMANDS } from './commands.js';
import type { Output } from './output.js';
import { CONFIG_FILE } from './config-file.js';
import { UsageError } from './usage.js';
import { authdbVersion } from './version.js';

/** Width of the command column in help listings. */
const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length));

/** One line per command: name and summary. */
function listCommands(commands: readonly CommandEntry[]): string {
  return commands.map((c) => `  ${c.name.padEnd(NAME_WIDTH)} ${c.summary}`).join('\n');
}

const HELP = `Usage: authdb <command> [options]

Commands:
${listCommands(COMMANDS)}

Every command reads ${CONFIG_FILE} in the working directory (or --config FILE);
\`authdb config\` shows the effective settings and their sources.
Run \`authdb <command> --help\` for a command's options, \`authdb --version\` for the version.
Exit codes: 0 success, 1 failure, 2 usage error.`;

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], output: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    output.err(HELP);
    return 2;
  }
  if (isHelp(first)) {
    output.out(HELP);
    return 0;
  }
  if (first === '--version' || first === '-V') {
    output.out(`authdb ${authdbVersion()}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second ?? ''}`) ?? COMMANDS.find((c) => c.name === first);
  // A command group (`migrate`, `schema`) without a subcommand: list its subcommands.
  const subcommands = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (!command && subcommands.length > 0 && (second === undefined || isHelp(second))) {
    (second === undefined ? output.err : output.out)(
      `Usage: authdb ${first} <${subcommands.map((c) => c.name.slice(first.length + 1)).join('|')}> [options]\n\n${listCommands(subcommands)}`,
    );
    return second === undefined ? 2 : 0;
  }
  if (!command) return usageFailure(output, `unknown command "${[first, second].filter(Boolean).join(' ')}"`, 'authdb --help');
  for (const warning of commandLinePasswordWarnings(argv)) output.err(warning);
  try {
    const args = argv.slice(command.name.split(' ').length);
    // The one place the project configuration is read: every command sees env > file in `env`.
    // `authdb config` resolves it itself, to tell each value's source.
    const implementation = await command.load();
    if (command.name === 'config') return await implementation.run(args, output, env);
    const { resolveProjectSettings, takeConfigFlag } = await import('./project-config.js');
    const taken = takeConfigFlag(args);
    const project = resolveProjectSettings(env, process.cwd(), taken.config);
    return await implementation.run(taken.argv, output, project.env);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(output, error.message, `authdb ${command.name} --help`);
    output.err(`authdb ${command.name}: error: ${describeError(error)}`);
    return exitCodeOf(error);
  }
}

/** 1, or the code an error asks for (130/143 for a run stopped by SIGINT/SIGTERM). */
function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof code === 'number' ? code : 1;
}

function isHelp(arg: string): boolean {
  return arg === '--help' || arg === '-h' || arg === 'help';
}

function usageFailure(output: Output, message: string, helpCommand: string): number {
  output.err(`authdb: ${message}\nRun \`${helpCommand}\` for usage.`);
  return 2;
}

