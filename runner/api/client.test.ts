import { RunnerClient } from './client';
import { RunnerApiError, RunnerConnectionError, RunnerTimeoutError } from './errors';
import { bearerMatches, tokenFromFileContent } from './auth';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function fakeFetch(status: number, body: string, seen: Seen[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
    });
    return new Response(body, { status });
  }) as typeof fetch;
}

describe('RunnerClient', () => {
  it('sends POST /cpu_change with the upstream VCPUs encoding and the bearer token', async () => {
    const seen: Seen[] = [];
    const c = new RunnerClient({ baseUrl: 'http://r:25183/', token: 't0k', fetch: fakeFetch(200, '', seen) });
    await c.setCpu(1500);
    await c.setCpu(2000);
    expect(seen[0]).toMatchObject({
      url: 'http://r:25183/cpu_change',
      method: 'POST',
      body: '{"VCPUs":"1500m"}',
    });
    expect(seen[1].body).toBe('{"VCPUs":2}');
    expect(seen[0].headers.authorization).toBe('Bearer t0k');
  });

  it('parses /cpu_current into milli-CPUs', async () => {
    const c = new RunnerClient({
      baseUrl: 'http://r',
      token: 't',
      fetch: fakeFetch(200, '{"VCPUs":"250m"}', []),
    });
    await expect(c.getCpu()).resolves.toBe(250);
  });

  it('maps /ready 503 to false without a token', async () => {
    const seen: Seen[] = [];
    const c = new RunnerClient({
      baseUrl: 'http://r',
      token: 't',
      fetch: fakeFetch(503, 'guest not up', seen),
    });
    await expect(c.ready()).resolves.toBe(false);
    expect(seen[0].headers.authorization).toBeUndefined();
  });

  it('raises RunnerApiError with the status and the error message', async () => {
    const c = new RunnerClient({
      baseUrl: 'http://r',
      token: 't',
      fetch: fakeFetch(401, '{"error":"missing bearer token"}', []),
    });
    const err = await c.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerApiError);
    expect((err as RunnerApiError).status).toBe(401);
    expect((err as RunnerApiError).unauthorized).toBe(true);
    expect((err as RunnerApiError).message).toContain('missing bearer token');
  });

  it('raises RunnerTimeoutError when the runner does not answer in time', async () => {
    const hang = ((_: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const c = new RunnerClient({ baseUrl: 'http://r', token: 't', timeoutMs: 20, fetch: hang });
    await expect(c.getMemory()).rejects.toBeInstanceOf(RunnerTimeoutError);
  });

  it('asks GET /qemu, and reads older runners (404) through /status and /migration', async () => {
    const answers: Record<string, [number, string]> = {
      '/qemu': [404, '{"error":"no such endpoint /qemu"}'],
      '/status': [200, '{"qemuStatus":"postmigrate","migrationRole":"source"}'],
      '/migration': [200, '{"status":"completed","totalTimeMs":900}'],
    };
    const byPath = (async (input: string | URL | Request) => {
      const [status, body] = answers[new URL(String(input)).pathname];
      return new Response(body, { status });
    }) as typeof fetch;
    const c = new RunnerClient({ baseUrl: 'http://r', token: 't', fetch: byPath });
    expect(await c.qemuState()).toEqual({
      qemuStatus: 'postmigrate',
      running: false,
      migrationRole: 'source',
      migration: { status: 'completed', totalTimeMs: 900 },
      guest: 'handed-off',
    });
    answers['/qemu'] = [504, '{"error":"QEMU did not answer"}'];
    await expect(c.qemuState()).rejects.toMatchObject({ status: 504 });
  });

  it('raises RunnerConnectionError on a refused connection', async () => {
    const c = new RunnerClient({ baseUrl: 'http://127.0.0.1:1', token: 't', timeoutMs: 2000 });
    await expect(c.migration()).rejects.toBeInstanceOf(RunnerConnectionError);
  });
});

describe('bearer token', () => {
  it('matches exactly, in constant time, ignoring the file newline', () => {
    const token = tokenFromFileContent('s3cret\n');
    expect(bearerMatches('Bearer s3cret', token)).toBe(true);
    expect(bearerMatches('bearer s3cret', token)).toBe(true);
    expect(bearerMatches('Bearer s3cre', token)).toBe(false);
    expect(bearerMatches('Basic s3cret', token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });
});
