import { imageInittab, specScripts, workloadFiles } from './guest-config';
import { parsePasswd, resolveImageUser } from './passwd';

const GUEST_INITTAB = `# neonvm guest
::sysinit:/neonvm/bin/vminit
::respawn:/neonvm/bin/neonvmd --addr=0.0.0.0:25183
::respawn:/neonvm/bin/vmstart
ttyS0::respawn:-/neonvm/bin/sh
::shutdown:/neonvm/bin/vmshutdown
`;

describe('imageInittab', () => {
  it('is the guest inittab when the spec is empty', () => {
    expect(imageInittab(GUEST_INITTAB, {})).toBe(GUEST_INITTAB);
  });
  it('puts spec commands after the services and before the console; vmshutdown runs the hook', () => {
    const out = imageInittab(GUEST_INITTAB, {
      commands: [
        { name: 'a', user: 'root', sysvInitAction: 'sysinit', shell: 'x' },
        { name: 'b', user: 'postgres', sysvInitAction: 'respawn', shell: 'y' },
      ],
      shutdownHook: 'z',
    });
    expect(out.split('\n')).toEqual([
      '# neonvm guest',
      '::sysinit:/neonvm/bin/vminit',
      '::respawn:/neonvm/bin/neonvmd --addr=0.0.0.0:25183',
      '::respawn:/neonvm/bin/vmstart',
      '::sysinit:/neonvm/bin/sh /neonvm/config/commands/a.sh',
      '::respawn:/neonvm/bin/sh /neonvm/config/commands/b.sh',
      'ttyS0::respawn:-/neonvm/bin/sh',
      '::shutdown:/neonvm/bin/vmshutdown',
      '',
    ]);
  });
});

describe('specScripts', () => {
  it('runs root commands directly and others through su, with core dumps enabled', () => {
    const [a, b, hook] = specScripts({
      commands: [
        { name: 'a', user: 'root', sysvInitAction: 'once', shell: 'echo a' },
        { name: 'b', user: 'postgres', sysvInitAction: 'once', shell: "echo 'b'" },
      ],
      shutdownHook: 'pg_ctl stop',
    });
    expect(a.content).toContain('ulimit -c unlimited\necho a\n');
    expect(b.content).toContain(
      `exec /neonvm/bin/su -p -s /neonvm/bin/sh postgres -c 'ulimit -c unlimited\necho '\\''b'\\''\n'`,
    );
    expect(hook).toEqual({
      path: 'neonvm/config/shutdown-hook.sh',
      content: '#!/neonvm/bin/sh\npg_ctl stop\n',
      mode: 0o755,
    });
  });
});

describe('workloadFiles', () => {
  const run = {
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['postgres', '-c', "a b'c"],
    env: { PGDATA: '/var/lib/postgresql/data', EMPTY: '' },
    workingDir: '/var lib',
    user: 'postgres',
  };
  it('quotes entrypoint, cmd and env for the guest shell', () => {
    const files = Object.fromEntries(
      workloadFiles(run, undefined).map((f) => [f.path.split('/').pop(), f.content]),
    );
    expect(files['image-command.sh']).toBe('/docker-entrypoint.sh');
    expect(files['image-args.sh']).toBe(`postgres -c 'a b'\\''c'`);
    expect(files['image-env.sh']).toBe(
      "export PGDATA=/var/lib/postgresql/data\nexport EMPTY=''\ncd '/var lib' || exit 1\n",
    );
  });
  it('names the user for vmstart and keeps the argv as is', () => {
    const files = workloadFiles(run, 'postgres');
    expect(files.find((f) => f.path.endsWith('image-user'))?.content).toBe('postgres\n');
    expect(files.find((f) => f.path.endsWith('image-command.sh'))?.content).toBe('/docker-entrypoint.sh');
    expect(workloadFiles(run, undefined).some((f) => f.path.endsWith('image-user'))).toBe(false);
  });
  it('keeps Env and WorkingDir for an image without a process (the VM spec gives the command)', () => {
    expect(workloadFiles({ ...run, entrypoint: [], cmd: [] }, undefined).map((f) => f.path)).toEqual([
      'neonvm/config/image-env.sh',
    ]);
  });
  it('refuses env names the shell cannot export', () => {
    expect(() => workloadFiles({ ...run, env: { 'A-B': 'x' } }, undefined)).toThrow(/cannot export/);
  });
});

describe('image users', () => {
  const passwd = parsePasswd(
    'root:x:0:0:root:/root:/bin/bash\n# comment\npostgres:x:999:999::/var/lib/postgresql:/bin/sh\nbad line\n',
  );
  it('parses /etc/passwd', () => expect(passwd.map((p) => p.name)).toEqual(['root', 'postgres']));
  it.each([
    ['root', undefined],
    ['0', undefined],
    ['', undefined],
    ['postgres', 'postgres'],
    ['999', 'postgres'],
    ['postgres:postgres', 'postgres'],
    ['999:999', 'postgres'],
  ])('%s → %s', (user, expected) => expect(resolveImageUser(user, passwd)).toBe(expected));
  it('fails for users without an entry', () => {
    expect(() => resolveImageUser('1000', passwd)).toThrow(/User "1000" has no entry/);
  });
});
