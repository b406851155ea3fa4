// parseDuration: the client-side duration grammar (pure; no database).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_DURATION_MS, parseDuration } from '../../src/index.js';

describe('parseDuration', () => {
  it.each([
    [90_000, 90_000],
    [1.5, 1.5],
    [0.001, 0.001],
    ['24 hours', 86_400_000],
    ['90 seconds', 90_000],
    ['1 day 2 hours', 93_600_000],
    ['1 day 2 hours 3 minutes 4 seconds 5 milliseconds', 93_784_005],
    ['2 weeks', 1_209_600_000],
    ['1.5 hours', 5_400_000],
    ['1 hour', 3_600_000],
    ['1 hr', 3_600_000],
    ['5 mins', 300_000],
    ['30 sec', 30_000],
    ['250 ms', 250],
    ['  7   DAYS ', 604_800_000],
    ['00:01:30', 90_000],
    ['00:00:00.5', 500],
    ['26:00:00', 93_600_000],
    ['1 day 02:00:00', 93_600_000],
  ])('%j is %d ms', (input, milliseconds) => {
    const parsed = parseDuration(input, 'tokenTtl');
    expect(parsed.milliseconds).toBe(milliseconds);
    const microseconds = Math.round(milliseconds * 1000);
    const hours = Math.floor(microseconds / 3_600_000_000);
    const seconds = Math.floor((microseconds % 3_600_000_000) / 1_000_000);
    expect(parsed.interval).toBe(`${hours} hours ${seconds} seconds ${microseconds % 1_000_000} microseconds`);
  });

  it('sends every length as numbers PostgreSQL 14 reads (each within 32 bits): 30 days, the maximum', () => {
    expect(parseDuration('30 days', 'tokenTtl').interval).toBe('720 hours 0 seconds 0 microseconds');
    expect(parseDuration(MAX_DURATION_MS, 'tokenTtl').interval).toBe('876600 hours 0 seconds 0 microseconds');
    expect(parseDuration(1.5, 'x').interval).toBe('0 hours 0 seconds 1500 microseconds');
  });

  it('rounds to whole microseconds, the resolution of a PostgreSQL interval', () => {
    expect(parseDuration(1.1 * 1000, 'x').milliseconds).toBe(1100);
    expect(parseDuration(0.0014, 'x').milliseconds).toBe(0.001);
  });

  it.each([
    ['a negative number', -1],
    ['zero', 0],
    ['less than a microsecond', 0.0004],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['more than the maximum', MAX_DURATION_MS + 1],
    ['an empty string', ''],
    ['garbage', 'soon'],
    ['a number without a unit', '60'],
    ['a unit without a number', 'hours'],
    ['a negative interval', '-1 hour'],
    ['a mixed-sign interval', '1 day -1 hour'],
    ['a zero interval', '0 seconds'],
    ['a unit given twice', '1 hour 2 hours'],
    ['months (variable length)', '1 month'],
    ['years (variable length)', '1 year'],
    ['a number glued to its unit', '90s'],
    ['an exponent', '1e3 seconds'],
    ['minutes out of range in a clock', '00:60:00'],
    ['a clock that is not last', '01:00:00 1 day'],
    ['a clock after hours', '1 hour 00:30:00'],
    ['a clock without seconds', '01:30'],
    ['SQL', "1 hour'; drop table users; --"],
    ['more than 100 years', '36525 days 1 second'],
  ])('rejects %s', (_label, input) => {
    let caught: unknown;
    try {
      parseDuration(input, 'tokenTtl');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    const error = caught as InvalidArgumentError;
    expect(error.code).toBe('AU009');
    expect(error.argument).toBe('tokenTtl');
    expect(error.cause).toBeUndefined();
    expect(error.message).toMatch(/^tokenTtl: .* is not a valid duration\. Use a positive number of milliseconds, or an interval such as '24 hours'/);
  });

  it('rejects values that are neither numbers nor strings (JavaScript callers)', () => {
    expect(() => parseDuration(null as unknown as string, 'olderThan')).toThrow(/^olderThan: object is not a valid duration/);
    expect(() => parseDuration(10n as unknown as number, 'olderThan')).toThrow(InvalidArgumentError);
  });

  it('accepts exactly the maximum', () => {
    expect(parseDuration(MAX_DURATION_MS, 'x').milliseconds).toBe(MAX_DURATION_MS);
    expect(parseDuration('36525 days', 'x').milliseconds).toBe(MAX_DURATION_MS);
  });
});
