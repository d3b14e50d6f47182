import { shellJoin, shellQuote } from './shell-quote';

describe('shell quoting', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    expect(shellQuote('postgres')).toBe('postgres');
    expect(shellQuote('-c')).toBe('-c');
    expect(shellQuote('a=b,c:d/e.f@g%h+i')).toBe('a=b,c:d/e.f@g%h+i');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote('line\nbreak')).toBe("'line\nbreak'");
  });

  it('joins an argv into one command line', () => {
    expect(shellJoin(['/bin/sh', '-c', 'echo $X'])).toBe("/bin/sh -c 'echo $X'");
  });
});
