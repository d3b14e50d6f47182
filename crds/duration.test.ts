import { parseGoDuration } from './duration';

describe('parseGoDuration', () => {
  it.each([
    ['2160h', 2160 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['1.5h', 90 * 60_000],
    ['90s', 90_000],
    ['250ms', 250],
    ['0', 0],
  ])('%s', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['', '90 days', 'soon', '1d', 'h', '-1h'])('rejects %j', (text) =>
    expect(parseGoDuration(text)).toBeUndefined(),
  );
});
