/**
 * Where a command writes: results on stdout, diagnostics on stderr. Plain
 * functions, not methods, so they can be passed on (`log: output.err`).
 */
export interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Wraps text in an ANSI color when stdout is a terminal and NO_COLOR is unset. */
  readonly color: (name: keyof typeof COLORS, text: string) => string;
}

const COLORS = { green: 32, yellow: 33, red: 31, dim: 2 } as const;

export function processOutput(): Output {
  const colored = process.stdout.isTTY && !process.env.NO_COLOR;
  // A closed pipe (`authdb migrate up --dry-run | head`) must not crash the
  // command halfway: drop further output and let it finish and clean up.
  let stdoutOpen = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutOpen = false;
  });
  return {
    out: (line) => {
      if (stdoutOpen) process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    color: (name, text) => (colored ? `\u001b[${COLORS[name]}m${text}\u001b[0m` : text),
  };
}

/** Milliseconds as a short human duration. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
