import { parseLogPath, parseLogQuery, tailLines } from './log-query';

describe('containerLogs request parsing', () => {
  it('reads the query kubectl logs sends', () => {
    expect(parseLogQuery(new URLSearchParams('follow=true&tailLines=10&previous=false'))).toEqual({
      follow: true,
      previous: false,
      tailLines: 10,
      limitBytes: undefined,
    });
  });

  it('splits the path', () => {
    expect(parseLogPath('/containerLogs/default/web-1/app')).toEqual({
      namespace: 'default',
      pod: 'web-1',
      container: 'app',
    });
    expect(parseLogPath('/exec/default/web-1/app')).toBeUndefined();
  });
});

describe('tailLines', () => {
  const text = Buffer.from('a\nb\nc\n');
  it.each([
    [undefined, 'a\nb\nc\n'],
    [0, ''],
    [2, 'b\nc\n'],
    [5, 'a\nb\nc\n'],
  ])('tail %s', (n, expected) => {
    expect(tailLines(text, n).toString()).toBe(expected);
  });
});
