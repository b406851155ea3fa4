import { InvalidArgumentError } from './errors.js';

/**
 * A length of time: milliseconds (a positive number), or an interval string
 * in a small, strict grammar that PostgreSQL reads the same way:
 *
 * - one or more `<number> <unit>` parts, each unit at most once:
 *   `'24 hours'`, `'90 seconds'`, `'1 day 2 hours'`, `'1.5 hours'`;
 *   units are `week(s)`, `day(s)`, `hour(s)`/`hr(s)`, `minute(s)`/`min(s)`,
 *   `second(s)`/`sec(s)`, `millisecond(s)`/`msec(s)`/`ms`;
 * - or a clock `HH:MM:SS[.fraction]` (minutes and seconds below 60), alone
 *   or after weeks and days: `'00:01:30'`, `'1 day 02:00:00'`.
 *
 * A day is exactly 24 hours and a week 7 days (no daylight-saving or
 * calendar arithmetic); months and years are not accepted because their
 * length varies. The result must be positive and at most
 * {@link MAX_DURATION_MS}.
 */
export type Duration = number | string;

/** The longest duration accepted: 100 years of 365.25 days, in milliseconds. */
export const MAX_DURATION_MS = 100 * 365.25 * 24 * 60 * 60 * 1000;

/** A validated {@link Duration}. */
export interface ParsedDuration {
  /** Length in milliseconds, rounded to whole microseconds (PostgreSQL's interval resolution). */
  readonly milliseconds: number;
  /** The same length as PostgreSQL interval input, e.g. `'1 hours 1800 seconds 0 microseconds'`. */
  readonly interval: string;
}

/**
 * Validates a duration without touching the database; throws
 * {@link InvalidArgumentError} (code AU009) naming `argument` when it is not
 * a positive (or, with `allowZero`, zero), finite duration in the accepted grammar.
 *
 * @example
 * parseDuration('1 day 2 hours', 'tokenTtl').milliseconds; // 93_600_000
 * parseDuration(90_000, 'minResendInterval').interval;    // '0 hours 90 seconds 0 microseconds'
 */
export function parseDuration(value: Duration, argument: string, options: { readonly allowZero?: boolean } = {}): ParsedDuration {
  const milliseconds = typeof value === 'number' ? value : typeof value === 'string' ? intervalMilliseconds(value) : undefined;
  const rounded = milliseconds === undefined ? undefined : Math.round(milliseconds * 1000) / 1000;
  const tooSmall = rounded !== undefined && (options.allowZero ? rounded < 0 : rounded <= 0);
  if (rounded === undefined || !Number.isFinite(rounded) || tooSmall || rounded > MAX_DURATION_MS) {
    throw new InvalidArgumentError(`${argument}: ${describe(value)} is not a valid duration. ${GRAMMAR_HELP}`, { argument });
  }
  return { milliseconds: rounded, interval: intervalText(rounded) };
}

/**
 * `'H hours S seconds U microseconds'`: hours rather than days (a day is
 * exactly 24 hours, whatever the session's TimeZone does at a DST change), and
 * every number small — PostgreSQL 14 reads each number of an interval's text
 * as a 32-bit integer, so `'2592000000 milliseconds'` (30 days) overflows there
 * (22015), while the hours of 100 years are 876,600.
 */
function intervalText(milliseconds: number): string {
  const microseconds = Math.round(milliseconds * 1000);
  const hours = Math.floor(microseconds / 3_600_000_000);
  const rest = microseconds - hours * 3_600_000_000;
  const seconds = Math.floor(rest / 1_000_000);
  return `${hours} hours ${seconds} seconds ${rest - seconds * 1_000_000} microseconds`;
}

const GRAMMAR_HELP =
  "Use a positive number of milliseconds, or an interval such as '24 hours', '90 seconds', '1 day 2 hours' or '00:01:30' " +
  `(units: weeks, days, hours, minutes, seconds, milliseconds; at most ${MAX_DURATION_MS / 86_400_000} days).`;

const UNIT_MS: Readonly<Record<string, number>> = {
  week: 604_800_000,
  weeks: 604_800_000,
  day: 86_400_000,
  days: 86_400_000,
  hour: 3_600_000,
  hours: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  minute: 60_000,
  minutes: 60_000,
  min: 60_000,
  mins: 60_000,
  second: 1000,
  seconds: 1000,
  sec: 1000,
  secs: 1000,
  millisecond: 1,
  milliseconds: 1,
  msec: 1,
  msecs: 1,
  ms: 1,
};

const NUMBER = /^\d+(?:\.\d+)?$/;
const CLOCK = /^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$/;

/** Milliseconds of an interval string, or `undefined` when it is outside the grammar. */
function intervalMilliseconds(text: string): number | undefined {
  const words = text.trim().toLowerCase().split(/\s+/);
  const seen = new Set<number>();
  let total = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const clock = CLOCK.exec(word);
    if (clock) {
      // The clock comes last (so at most once).
      if (i !== words.length - 1) return undefined;
      const [, hours = '', minutes = '', seconds = ''] = clock;
      total += Number(hours) * 3_600_000 + Number(minutes) * 60_000 + Number(seconds) * 1000;
      continue;
    }
    const unit = UNIT_MS[words[i + 1] ?? ''];
    if (!NUMBER.test(word) || unit === undefined || seen.has(unit)) return undefined;
    // A clock sets everything below a day, so only weeks and days may precede it.
    if (unit < 86_400_000 && CLOCK.test(words.at(-1) ?? '')) return undefined;
    seen.add(unit);
    total += Number(word) * unit;
    i++;
  }
  return total;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}
