import { LineSplitter, backoffDelay, classifyMessage, encodeCommand } from './protocol';

describe('classifyMessage', () => {
  it('recognises greeting, return, error and event', () => {
    expect(classifyMessage({ QMP: { version: {}, capabilities: [] } }).kind).toBe('greeting');
    expect(classifyMessage({ return: { a: 1 }, id: 'x' })).toEqual({
      kind: 'return',
      id: 'x',
      value: { a: 1 },
    });
    expect(classifyMessage({ error: { class: 'DeviceNotFound', desc: 'no such device' }, id: 3 })).toEqual({
      kind: 'error',
      id: 3,
      error: { class: 'DeviceNotFound', desc: 'no such device' },
    });
    expect(
      classifyMessage({
        event: 'SHUTDOWN',
        data: { guest: true },
        timestamp: { seconds: 1, microseconds: 2 },
      }),
    ).toEqual({
      kind: 'event',
      event: { event: 'SHUTDOWN', data: { guest: true }, timestamp: { seconds: 1, microseconds: 2 } },
    });
  });

  it('gives events without data an empty object and rejects junk', () => {
    const m = classifyMessage({ event: 'STOP', timestamp: { seconds: 1, microseconds: 0 } });
    expect(m.kind === 'event' && m.event.data).toEqual({});
    expect(() => classifyMessage([1])).toThrow(/JSON object/);
    expect(() => classifyMessage({ hello: 1 })).toThrow(/unrecognised/);
  });
});

describe('encodeCommand', () => {
  it('omits empty arguments', () => {
    expect(encodeCommand('query-status', {}, 'q1')).toBe('{"execute":"query-status","id":"q1"}\n');
    expect(JSON.parse(encodeCommand('qom-get', { path: 'vm0', property: 'size' }, 'q2'))).toEqual({
      execute: 'qom-get',
      id: 'q2',
      arguments: { path: 'vm0', property: 'size' },
    });
  });
});

describe('LineSplitter', () => {
  it('reassembles lines across chunks', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\r\n{"b":2}\n{"c"')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.push(':3}\n')).toEqual(['{"c":3}']);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially and caps', () => {
    expect(backoffDelay(0, 100, 2000, 0.5)).toBe(100);
    expect(backoffDelay(3, 100, 2000, 0.5)).toBe(800);
    expect(backoffDelay(10, 100, 2000, 0.5)).toBe(2000);
    expect(backoffDelay(10, 100, 2000, 0)).toBe(1600);
  });
});
