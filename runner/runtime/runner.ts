/**
 * The runner's life cycle (upstream §4.2, with the fixes noted): prepare (init script, guest files,
 * accelerator probe, network, disks), start QEMU, own its one QMP connection, serve the API, sync
 * files, and turn how QEMU ended into the exit code (non-zero when QEMU fails: upstream #964).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { milliCpuRoundedUp, parseMilliCpu } from '../../crds';
import { FileTokenSource } from '../server/token-source';
import { RunnerMetrics } from '../server/metrics';
import { GuestLogForwarder } from './guest-log-forwarder';
import { NetworkCounterSampler } from '../exec/network-counters';
import { startRunnerApiServer } from '../server/http-server';
import { archInfo, GUEST_AGENT_PORT } from '../../guest';
import { spawnQemu, type QemuProcess } from '../qemu/qemu-process';
import { QmpClient } from '../qmp';
import type { RunnerConfig } from '../config/runner-config';
import { planDisks } from '../plan/disks';
import { needsEmulation, planGuestArch } from '../plan/guest-arch';
import { kernelCmdline } from '../plan/kernel-cmdline';
import {
  GUEST_IP,
  guestMac,
  planOverlayNetwork,
  planTapNetwork,
  planUserNetwork,
  type NetworkPlan,
  type OverlayPlan,
} from '../plan/network-plan';
import { buildQemuArgs } from '../plan/qemu-args';
import { buildDisks } from '../exec/disk-builder';
import {
  decideNetworkMode,
  defaultRouteDevice,
  freePort,
  parseResolvConf,
  hasInterface,
  setupOverlayNetwork,
  setupTapNetwork,
  type TapNetwork,
} from '../exec/network-setup';
import { QemuCpuCgroup } from '../exec/cpu-cgroup';
import { FileSync } from '../vm/file-sync';
import { GuestAgent } from '../vm/guest-agent';
import { QemuVm } from '../vm/qemu-vm';
import { readFile } from 'node:fs/promises';
import { inPod } from '../plan/pod-paths';
import { resolveGuestFiles } from './guest-files';
import { accelVerdict } from './accel';
import { writeAccessFiles } from './access-files';

const SETPRIV = '/usr/bin/setpriv';

export type Log = (msg: string, extra?: Record<string, unknown>) => void;

export interface RunnerIo {
  log: Log;
  /** Guest console bytes (QEMU stdout). */
  console: (chunk: Buffer) => void;
  /** QEMU's own diagnostics (stderr). */
  qemuStderr: (chunk: Buffer) => void;
}

export interface RunningVm {
  vm: QemuVm;
  qemu: QemuProcess;
  apiUrl: string;
  /** Resolves with the runner's exit code once QEMU is gone and everything is cleaned up. */
  exited: Promise<number>;
  /** Graceful stop: ACPI power button, then kill after timeoutMs. */
  shutdown(timeoutMs?: number): Promise<number>;
}

function runInitScript(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`spec.initScript failed with exit code ${code}`)),
    );
  });
}

export async function startRunner(c: RunnerConfig, io: RunnerIo): Promise<RunningVm> {
  const { log } = io;
  // spec.targetArchitecture selects the guest (arm64 on an amd64 host runs emulated under TCG).
  const arch = planGuestArch(c.spec);
  if (c.spec.initScript) await runInitScript(c.spec.initScript);
  await mkdir(c.paths.state, { recursive: true });
  await mkdir(c.paths.socketDir, { recursive: true, mode: 0o700 });
  await mkdir(c.paths.images, { recursive: true });

  const files = await resolveGuestFiles({
    kernelPath: c.kernelPath,
    initrdPath: c.initrdPath,
    imagesDir: c.paths.images,
    rootDiskBase: c.rootDiskBase,
    arch,
    progress: (line) => log(line),
  });
  const accel =
    c.spec.enableAcceleration === false
      ? { accel: 'tcg' as const, reason: 'spec.enableAcceleration is false' }
      : needsEmulation(arch)
        ? { accel: 'tcg' as const, reason: `guest architecture ${arch} is emulated on this host` }
        : await accelVerdict(files.kernel);
  log('accelerator', { ...accel });

  // --- network
  const netMode = decideNetworkMode(c.networkMode);
  log('network mode', { ...netMode });
  const mac = guestMac(
    c.spec.guest.rootDisk.image + '/' + (c.status?.podName ?? c.podName).replace(/-[a-z0-9]{5}$/, ''),
  );
  let network: NetworkPlan;
  let tap: TapNetwork | undefined;
  let agentUrl: string;
  let ssh: { host: string; port: number };
  const ports = c.spec.guest.ports ?? [];
  if (netMode.mode === 'tap') {
    const resolv = parseResolvConf(
      await readFile(inPod(c.paths.root, '/etc/resolv.conf'), 'utf8').catch(() => ''),
    );
    network = planTapNetwork({ mac, ports, uplink: await defaultRouteDevice(), ...resolv });
    tap = await setupTapNetwork(network as Extract<NetworkPlan, { mode: 'tap' }>, (m) => log(m));
    agentUrl = `http://${GUEST_IP}:${GUEST_AGENT_PORT}`;
    ssh = { host: GUEST_IP, port: 22 };
  } else {
    const [agentPort, sshPort] = [await freePort(), await freePort()];
    const podIp = c.podIp === '0.0.0.0' ? '' : c.podIp; // slirp: empty host address = any
    network = planUserNetwork({
      mac,
      ports,
      podIp,
      agentHostPort: agentPort,
      sshHostPort: sshPort,
      agentGuestPort: GUEST_AGENT_PORT,
    });
    agentUrl = `http://127.0.0.1:${agentPort}`;
    ssh = { host: '127.0.0.1', port: sshPort };
  }

  // --- overlay network (spec.extraNetwork): the guest's eth1 on the pod's Multus interface
  let overlay: OverlayPlan | undefined;
  const extra = c.spec.extraNetwork;
  if (extra?.enable) {
    const podInterface = extra.interface ?? 'net1';
    if (netMode.mode !== 'tap') {
      log(`warning: spec.extraNetwork not attached: it needs tap networking (${netMode.reason})`);
    } else if (!(await hasInterface(podInterface))) {
      log(
        `warning: spec.extraNetwork not attached: the pod has no interface ${podInterface} (Multus adds it from the k8s.v1.cni.cncf.io/networks annotation)`,
      );
    } else {
      overlay = planOverlayNetwork({ mac: guestMac(`${mac}/overlay`), podInterface });
      await setupOverlayNetwork(overlay);
      log('overlay network attached', { podInterface, mac: overlay.mac, ip: c.status?.extraNetIP });
    }
  }

  // --- disks and command line
  const disks = planDisks(c.spec, c.shape, c.paths, files.root);
  const t0 = Date.now();
  await buildDisks(disks);
  log('disks ready', { ms: Date.now() - t0, drives: disks.drives.map((d) => d.id) });
  const cmdline = kernelCmdline({
    shape: c.shape,
    arch,
    hostname: `vm-${c.podName}`,
    memhpAutoMovableRatio: c.memhpAutoMovableRatio,
    useVirtioConsole: c.useVirtioConsole,
    appendKernelCmdline: c.appendKernelCmdline,
    extraNet:
      c.status?.extraNetIP && c.status.extraNetMask
        ? { ip: c.status.extraNetIP, mask: c.status.extraNetMask, podName: c.podName }
        : undefined,
  });
  await rm(c.paths.qmpSocket, { force: true });
  await rm(c.paths.qmpManualSocket, { force: true });
  await rm(c.paths.logSocket, { force: true });
  const args = buildQemuArgs(c.shape, disks.drives, {
    arch,
    accel: accel.accel,
    kernelPath: files.kernel,
    initrdPath: files.initrd,
    qmpSocket: c.paths.qmpSocket,
    qmpManualSocket: c.paths.qmpManualSocket,
    logSocket: c.paths.logSocket,
    diskCacheSettings: c.diskCacheSettings,
    useVirtioConsole: c.useVirtioConsole,
    network,
    overlay: overlay && { mac: overlay.mac },
    // The target plugs the source's vCPUs before the stream starts, hence `defer`.
    incoming: c.receiveMigration ? { kind: 'defer' } : undefined,
    cmdline,
    name: c.podName,
  });
  log('starting QEMU', { binary: archInfo(arch).qemuBinary, args });

  // --- QEMU and its QMP connection
  // QEMU gets its own process group so a SIGTERM/Ctrl-C sent to the runner's group (the local
  // cluster's node agent signals groups; terminals signal the foreground group) reaches only the
  // runner, which powers the guest off cleanly. Parent-death SIGKILL (setpriv, util-linux) keeps it
  // from outliving a runner that was SIGKILLed.
  const qemu = existsSync(SETPRIV)
    ? spawnQemu(SETPRIV, ['--pdeathsig', 'KILL', '--', archInfo(arch).qemuBinary, ...args], {
        newProcessGroup: true,
      })
    : spawnQemu(archInfo(arch).qemuBinary, args, { newProcessGroup: true });
  // CPU time limited to cpus.use (fractional CPUs mean something): QEMU joins its cgroup right after
  // the spawn; the threads it starts later (vCPUs) stay in it.
  let cgroup: QemuCpuCgroup | undefined;
  if (c.manageCgroup && qemu.child.pid !== undefined) {
    const created = await QemuCpuCgroup.create(c.podName);
    if (typeof created === 'string') {
      log(`warning: QEMU runs without a CPU limit: ${created} (-skip-cgroup-management silences this)`);
    } else {
      const initialMilli =
        c.receiveMigration && c.status?.cpus !== undefined
          ? parseMilliCpu(c.status.cpus)
          : c.shape.cpus.useMilli;
      try {
        await created.setCpu(initialMilli);
        await created.addProcess(qemu.child.pid);
        cgroup = created;
        log('QEMU CPU cgroup', { dir: created.dir, milliCpu: initialMilli });
      } catch (e) {
        await created.remove();
        log(`warning: QEMU runs without a CPU limit: ${(e as Error).message}`);
      }
    }
  }
  qemu.child.stdout?.removeAllListeners('data');
  qemu.child.stderr?.removeAllListeners('data');
  qemu.child.stdout?.setEncoding('binary' as BufferEncoding);
  let stderrTail = '';
  qemu.child.stdout?.on('data', (c: string) => io.console(Buffer.from(c, 'binary')));
  qemu.child.stderr?.on('data', (c: string) => {
    stderrTail = (stderrTail + c).slice(-2000);
    io.qemuStderr(Buffer.from(c));
  });
  let shutdownReason: string | undefined;
  const cleanup: Array<() => Promise<void> | void> = [
    () => cgroup?.remove(),
    () => tap?.stop(),
    // a short socket directory outside the pod (deep pod roots) is ours to remove
    () =>
      c.paths.socketDir !== c.paths.state
        ? rm(c.paths.socketDir, { recursive: true, force: true })
        : undefined,
  ];
  const fail = async (e: unknown): Promise<never> => {
    await qemu.kill();
    for (const f of cleanup.reverse()) await f();
    throw e;
  };

  let qmp: QmpClient;
  try {
    qmp = await Promise.race([
      QmpClient.connect({ socketPath: c.paths.qmpSocket, connectTimeoutMs: 15_000, log: (m) => log(m) }),
      qemu.exited.then((code) => {
        throw new Error(`QEMU exited (${code}) before QMP was up: ${stderrTail.trim()}`);
      }),
    ]);
  } catch (e) {
    // A QEMU that rejects its command line closes the socket before exiting: prefer its own words.
    const code = await Promise.race([qemu.exited, new Promise((r) => setTimeout(r, 1000, undefined))]);
    return fail(code === undefined ? e : new Error(`QEMU exited (${String(code)}): ${stderrTail.trim()}`));
  }
  cleanup.push(() => qmp.close());
  const guestLogs = new GuestLogForwarder(c.paths.logSocket, (text) => process.stdout.write(text));
  guestLogs.start();
  cleanup.push(() => guestLogs.stop());
  qmp.onEvent('SHUTDOWN', (e) => {
    shutdownReason = (e.data as { reason?: string } | undefined)?.reason;
  });

  const chardevs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
  const pty = chardevs.find((d) => d.label === 'serial0')?.filename.replace(/^pty:/, '');
  if (pty) {
    await rm(c.paths.consoleLink, { force: true });
    await symlink(pty, c.paths.consoleLink).catch(() => undefined);
    log(`guest serial console on ${pty} (screen ${pty})`, { pty });
  }

  const agent = new GuestAgent(agentUrl);
  const vm = new QemuVm({
    qmp,
    agent,
    shape: c.shape,
    accel: accel.accel,
    arch,
    networkMode: network.mode,
    role: c.receiveMigration ? 'target' : 'none',
    consolePty: pty,
    log,
    onCpuApplied: async (milli) => cgroup?.setCpu(milli),
  });
  cleanup.push(() => vm.stop());

  try {
    if (c.receiveMigration) {
      // Same devices as the source: its vCPU count comes from -vmstatus (cpus).
      await vm.cpu.ensurePlugged(c.shape.vcpus.use);
      log('vCPUs plugged for the incoming migration', { plugged: await vm.cpu.pluggedCount() });
      await vm.migrator.listen(c.podIp === '0.0.0.0' ? '0.0.0.0' : c.podIp);
      log('waiting for the incoming migration', { port: 20187 });
    } else {
      await vm.cpu.ensurePlugged(c.shape.vcpus.use);
    }
  } catch (e) {
    return fail(e);
  }

  const sync = new FileSync(agent, disks.watched, log);
  cleanup.push(() => sync.stop());
  vm.watchGuest(async () => {
    if (c.receiveMigration) {
      // The guest (and its online CPUs) came from the source; keep the fractional value when it agrees.
      const online = await agent.getCpuMilli();
      const fromStatus = c.status?.cpus !== undefined ? parseMilliCpu(c.status.cpus) : online;
      vm.cpu.adopt(milliCpuRoundedUp(fromStatus) * 1000 === online ? fromStatus : online);
      await cgroup?.setCpu(vm.cpu.currentMilli);
      await vm.memory.adopt();
      vm.setRole('none'); // the VM is ours now: an ordinary runner from here on
    } else {
      await vm.cpu.set(c.shape.cpus.useMilli);
    }
    sync.start();
  });

  const metrics = new RunnerMetrics();
  if (c.spec.enableNetworkMonitoring) metrics.monitorNetwork(new NetworkCounterSampler());
  let server: Server;
  try {
    server = await startRunnerApiServer(
      { vm, tokens: new FileTokenSource(c.tokenFile), metrics, log },
      c.podIp,
      c.apiPort,
    );
  } catch (e) {
    return fail(e);
  }
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const apiUrl = `http://${c.podIp === '0.0.0.0' ? '127.0.0.1' : c.podIp}:${c.apiPort}`;
  log('runner API listening', { url: apiUrl });
  await writeAccessFiles(
    c.paths,
    {
      pid: process.pid,
      qemuPid: qemu.pid,
      podName: c.podName,
      apiUrl,
      qmpSocket: c.paths.qmpSocket,
      qmpManualSocket: c.paths.qmpManualSocket,
      consolePty: pty,
      sshConfig: c.paths.sshConfig,
      networkMode: network.mode,
      accel: accel.accel,
    },
    ssh,
    network.mode === 'tap',
  );

  const exited = qemu.exited.then(async (code) => {
    server.closeAllConnections(); // keep-alive clients must not hold server.close() open
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
    const clean = code === 0 && shutdownReason !== 'guest-reset' && shutdownReason !== 'guest-panic';
    log('QEMU exited', { code, shutdownReason, clean });
    if (!clean && stderrTail.trim()) log('QEMU stderr', { tail: stderrTail.trim() });
    return clean ? 0 : 1;
  });

  let shuttingDown: Promise<number> | undefined;
  const shutdown = (timeoutMs = 30_000): Promise<number> => {
    shuttingDown ??= (async () => {
      let status = 'unknown';
      try {
        status = (await qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 2000 }))
          .status;
      } catch {
        // QMP gone: QEMU is exiting already
      }
      // A migrated-away source (or a target still waiting) has no guest of its own to power off.
      const command = ['postmigrate', 'inmigrate', 'paused', 'prelaunch'].includes(status)
        ? 'quit'
        : 'system_powerdown';
      log('shutting down', { command, qemuStatus: status });
      await qmp.execute(command, undefined, { timeoutMs: 2000 }).catch(() => undefined);
      if (command === 'quit') shutdownReason = 'host-qmp-quit';
      const timer = setTimeout(() => {
        log('guest did not power off in time: killing QEMU', { timeoutMs });
        void qemu.kill();
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })();
    return shuttingDown;
  };
  return { vm, qemu, apiUrl, exited, shutdown };
}
