/** Options whose value is a connection URL, which may carry a password. */
export const URL_OPTIONS: readonly string[] = ['--database-url', '--scratch-url'];

/**
 * A warning for every URL option of `argv` whose value carries a password
 * (`postgres://user:PASSWORD@…` or `?password=…`): any user of the machine
 * reads a process's command line (`ps`, `/proc/<pid>/cmdline`) while it runs.
 * Never repeats the URL. Empty when there is nothing to warn about.
 */
export function commandLinePasswordWarnings(argv: readonly string[]): string[] {
  const warnings: string[] = [];
  for (const [index, arg] of argv.entries()) {
    if (arg === '--') break;
    const option = URL_OPTIONS.find((name) => arg === name || arg.startsWith(`${name}=`));
    if (option === undefined) continue;
    const value = arg === option ? argv[index + 1] : arg.slice(option.length + 1);
    if (value === undefined || !carriesPassword(value)) continue;
    warnings.push(
      `authdb: warning: the URL given with ${option} carries a password, and any user of this machine can read a command line ` +
        `while the command runs (ps, /proc/<pid>/cmdline), as can shell history. ` +
        `${option === '--database-url' ? 'Set DATABASE_URL instead, or' : 'Instead,'} leave the password out of the URL and keep it in a password file ` +
        `(~/.pgpass, or the file PGPASSFILE names; mode 0600).`,
    );
  }
  return warnings;
}

/** Whether a connection URL holds a password in its user part or in a `password` parameter. */
function carriesPassword(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.password !== '' || parsed.searchParams.has('password');
  } catch {
    // Not a URL the checks accept (refused later); it may still hold `user:password@`.
    return /^[^:/?#]+:\/\/[^/?#@]*:[^/?#@]+@/.test(url) || /[?&]password=/.test(url);
  }
}
