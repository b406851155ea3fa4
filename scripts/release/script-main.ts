/** A usage mistake: exit 2 with the usage. */
export class ScriptUsageError extends Error {}

/**
 * Runs a script's `main` and exits with its code: 1 with the message when
 * it fails, 2 with the message and `help` on a usage error (a
 * {@link ScriptUsageError} or an unknown option of `util.parseArgs`).
 */
export function runScriptMain(main: () => Promise<number>, help: string): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const usage = error instanceof ScriptUsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true;
      console.error(`${(error as Error).message}${usage ? `\n\n${help}` : ''}`);
      process.exit(usage ? 2 : 1);
    },
  );
}
