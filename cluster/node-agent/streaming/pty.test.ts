import { parseResizeMessages, ptyArgv } from './pty';

describe('pty helpers', () => {
  it('runs the command, shell-quoted, under script on a pty', () => {
    expect(ptyArgv(['echo', 'a b', "it's"])[7]).toBe(`echo 'a b' 'it'\\''s'`);
    expect(ptyArgv(['sh'])).toEqual(['script', '-q', '-f', '-e', '-E', 'always', '-c', 'sh', '/dev/null']);
  });

  it('parses resize messages split across chunks and skips malformed ones', () => {
    const first = parseResizeMessages('{"Width":80,"Height":24}\n{"Width":1');
    expect(first.sizes).toEqual([{ cols: 80, rows: 24 }]);
    const second = parseResizeMessages(`${first.rest}20,"Height":40}\n{"Width":"x"}{"Width":0,"Height":3}`);
    expect(second.sizes).toEqual([{ cols: 120, rows: 40 }]);
    expect(second.rest).toBe('');
  });
});
