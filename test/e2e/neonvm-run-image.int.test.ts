/**
 * A built image booted the way a new user does it: `neonvm image build <oci-layout> -t ref` and
 * `neonvm run vm.yaml` naming `rootDisk.image: ref` (both as CLI processes, against a temp image
 * store). The VM boots that image's disk and runs its entrypoint as its User, in its WorkingDir, with
 * its Env overridden by the spec's (layer whiteouts applied), and the image spec's command and file;
 * a VM spec command keeps the image's User; Ctrl-C runs the image's
 * shutdown hook and waits for the workload to stop before power-off (both leave lines in a file on
 * the root disk, read from the disk afterwards); a VM naming an image that is not in the store
 * fails at once, naming the field and what was looked up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ensureGuestArtifacts } from '../../guest';
import { freePort, packagePath, pollUntil, runText } from '../../host';
import { TEST_WORKLOAD_MARKER, writeBusyboxImage } from '../../image/testing/busybox-image';

jest.setTimeout(600_000);

const CLI = resolve(__dirname, '../../cli/main.ts');
const TSX = packagePath(__dirname, 'node_modules/tsx/dist/loader.mjs');
const IMAGE = 'neonvm-test/run-image:1';
const IP = '127.0.21.9';
let work: string;
let store: string;
const children: ChildProcess[] = [];

interface CliRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function cli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

function vmFile(name: string, guest: Record<string, unknown>): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'vm.neon.tech/v1',
      kind: 'VirtualMachine',
      metadata: { name },
      spec: {
        guest: {
          cpus: { min: 1, max: 1, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 1, max: 1, use: 1 },
          ...guest,
        },
      },
    }),
  );
  return file;
}

/** `neonvm run` of a VM file in its own state dir; resolves once `pattern` is on the guest console. */
async function runUntil(file: string, dir: string, pattern: RegExp): Promise<CliRun> {
  const port = await freePort(IP);
  const run = cli(['run', file, '--dir', dir, '--ip', IP, '--port', String(port), '--image-store', store]);
  const consoleText = () =>
    existsSync(join(dir, 'console.log')) ? readFileSync(join(dir, 'console.log'), 'utf8') : '';
  try {
    await pollUntil(async () => (pattern.test(consoleText()) ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 500,
      description: `${pattern} on the console of ${file}`,
      abortIf: () =>
        run.child.exitCode !== null ? new Error(`neonvm run exited: ${run.output()}`) : undefined,
    });
  } catch (e) {
    (e as Error).message += `\nneonvm run:\n${run.output()}\nconsole (tail):\n${consoleText().slice(-3000)}`;
    throw e;
  }
  return run;
}

/** A file of the guest's root filesystem, read from the VM's qcow2 overlay after it stopped. */
async function readFromDisk(dir: string, path: string): Promise<string> {
  const raw = join(work, 'disk.raw');
  await runText(['qemu-img', 'convert', '-O', 'raw', join(dir, 'vm/images/rootdisk.qcow2'), raw]);
  try {
    return await runText(['debugfs', '-R', `cat ${path}`, raw]);
  } finally {
    rmSync(raw, { force: true });
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neonvm-run-image-'));
  store = join(work, 'store');
  const guest = await ensureGuestArtifacts({ arch: 'amd64' });
  const layout = join(work, 'layout');
  await writeBusyboxImage(layout, join(guest.rootfsDir, 'neonvm/bin/busybox'), {
    os: 'linux',
    architecture: 'amd64',
  });
  writeFileSync(
    join(work, 'spec.yaml'),
    stringify({
      commands: [
        {
          name: 'hello',
          user: 'app',
          sysvInitAction: 'once',
          shell: 'echo "spec-command: uid=$(id -u) file=$(cat /etc/from-spec)"',
        },
      ],
      files: [{ filename: '/etc/from-spec', content: 'written by the spec' }],
      shutdownHook: 'echo "hook ran" >> /tmp/shutdown.log; chmod 666 /tmp/shutdown.log',
    }),
  );
  const build = cli([
    'image',
    'build',
    layout,
    '-t',
    IMAGE,
    '--spec',
    join(work, 'spec.yaml'),
    '--image-store',
    store,
  ]);
  expect(await build.exited).toBe(0);
  expect(build.output()).toMatch(/workload: \["\/app\/entrypoint.sh","first","second arg"\] as app in \/app/);
}, 600_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // QEMU runs under setpriv --pdeathsig KILL, so it dies with its runner; wait for that.
  for (const dir of ['entrypoint', 'command']) {
    const info = join(work, dir, 'vm/runner/runner.json');
    if (!existsSync(info)) continue;
    const { qemuPid } = JSON.parse(readFileSync(info, 'utf8')) as { qemuPid?: number };
    if (qemuPid)
      await pollUntil(async () => (existsSync(`/proc/${qemuPid}`) ? undefined : true), {
        timeoutMs: 10_000,
        description: `QEMU ${qemuPid} to exit`,
      }).catch(() => undefined);
  }
  rmSync(work, { recursive: true, force: true });
});

it("boots the named image and runs its entrypoint as its User with its Env (the spec's env wins)", async () => {
  const dir = join(work, 'entrypoint');
  const file = vmFile('run-image', {
    rootDisk: { image: IMAGE },
    env: [{ name: 'GREETING', value: 'hello from the spec' }],
  });
  // The workload and the spec's `once` command start independently: wait for both.
  const both = new RegExp(`^(?=[\\s\\S]*${TEST_WORKLOAD_MARKER} uid=)(?=[\\s\\S]*spec-command: uid=)`);
  const run = await runUntil(file, dir, both);
  const console = readFileSync(join(dir, 'console.log'), 'utf8');
  expect(console).toContain(
    `${TEST_WORKLOAD_MARKER} uid=1000 pwd=/app greeting=hello from the spec argc=2 args=first second arg`,
  );
  expect(console).not.toMatch(/no workload command|whiteout not applied/);
  expect(console).toContain('spec-command: uid=1000 file=written by the spec');
  expect(run.output()).toContain(`root disk: ${IMAGE}`);

  // Ctrl-C: ACPI power button (pressed until the guest sees it) → vmshutdown runs the hook, then
  // stops the workload and waits for it (it takes TEST_WORKLOAD_STOP_SECONDS) before power-off.
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(0);
  const after = readFileSync(join(dir, 'console.log'), 'utf8');
  expect(after).toMatch(/neonvm-guest: stopping the workload[\s\S]*neonvm-guest: workload stopped/);
  expect(await readFromDisk(dir, '/tmp/shutdown.log')).toBe(
    `hook ran\n${TEST_WORKLOAD_MARKER} stopped uid=1000\n`,
  );
});

it("runs a command the spec gives as the image's User", async () => {
  const dir = join(work, 'command');
  const file = vmFile('run-command', {
    rootDisk: { image: IMAGE },
    command: ['/bin/sh', '-c', 'echo "spec-command uid=$(id -u) greeting=$GREETING"; exec sleep 100000'],
  });
  const run = await runUntil(file, dir, /spec-command uid=/);
  expect(readFileSync(join(dir, 'console.log'), 'utf8')).toContain(
    'spec-command uid=1000 greeting=hello from the image',
  );
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(0);
});

it('fails at once for an image that is not in the store, naming the field and the lookup', async () => {
  const file = vmFile('missing', { rootDisk: { image: 'neonvm-test/not-built:1' } });
  const run = cli(['run', file, '--dir', join(work, 'missing'), '--ip', IP, '--image-store', store]);
  expect(await run.exited).toBe(1);
  expect(run.output()).toContain('spec.guest.rootDisk.image');
  expect(run.output()).toContain(
    `no image docker.io/neonvm-test/not-built:1 in the local image store ${store}`,
  );
  expect(run.output()).toContain('[image-in-store]');
  expect(existsSync(join(work, 'missing', 'vm/images'))).toBe(false);
});
