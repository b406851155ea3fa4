/** How long {@link waitFor} waits by default. Default is 30 s: generous for a loaded 2-core machine. */
export const DEFAULT_WAIT_LIMIT_MS = 30_000;

export interface WaitOptions {
  /** Give up after this many milliseconds. Default is {@link DEFAULT_WAIT_LIMIT_MS}. */
  readonly limitMs?: number;
  /** Pause between polls, in milliseconds. Default is 50. */
  readonly pollMs?: number;
}

/**
 * Polls `condition` until it holds: tests wait for a state, never for a
 * time. Fails naming `what` when the state never comes within the limit (a
 * liveness bound, not a speed assertion). Resolves to the milliseconds it
 * waited.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<number> {
  const limitMs = options.limitMs ?? DEFAULT_WAIT_LIMIT_MS;
  const started = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`gave up after ${limitMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
  }
}
