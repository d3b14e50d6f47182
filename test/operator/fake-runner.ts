/**
 * A stand-in runner for operator integration tests: serves the runner HTTP API contract
 * (`runner/api`) with a simulated guest instead of QEMU. Started by the local cluster's node agent as
 * the `runner` command of a runner pod; reads the same flags and files as the real runner.
 *
 * Migration is simulated too: the source, on `POST /migration`, streams for 0.5 s, pauses for the
 * switch-over and tells the target (a private `POST /__fake/incoming`) that the stream arrived, reports
 * `completed` 0.1 s later and exits 0 some time after (or reports `failed` when the guest env has
 * `FAKE_MIGRATION=fail`).
 */
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import {
  decodeGzipBase64,
  formatMilliCpu,
  parseMilliCpu,
  type VirtualMachineSpec,
  type VirtualMachineStatus,
} from '../../crds';
import { bearerMatches, DEFAULT_TOKEN_FILE, guestCustody, TOKEN_FILE_ENV } from '../../runner/api';

function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`-${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`-${name}=`))?.slice(name.length + 2);
}

const spec = decodeGzipBase64<VirtualMachineSpec>(flag('vmspec') ?? '');
const status = flag('vmstatus') ? decodeGzipBase64<VirtualMachineStatus>(flag('vmstatus') ?? '') : {};
const podRoot = process.env.NEONVM_POD_ROOT ?? '/';
const tokenFile = join(podRoot, process.env[TOKEN_FILE_ENV] ?? DEFAULT_TOKEN_FILE);
const target = process.env.RECEIVE_MIGRATION === 'true';
const slotBytes = Number(String(spec.guest.memorySlotSize ?? '1Gi').replace('Gi', '')) * 2 ** 30;
const bootDelayMs = Number(process.env.FAKE_RUNNER_BOOT_MS ?? '300');
/** A guest env `FAKE_MIGRATION=fail` makes the stream fail (QEMU status `failed`) on the source. */
const failMigration = (spec.guest.env ?? []).some((e) => e.name === 'FAKE_MIGRATION' && e.value === 'fail');

const state = {
  ready: false,
  cpu: status.cpus !== undefined ? parseMilliCpu(status.cpus) : parseMilliCpu(spec.guest.cpus?.use ?? 1),
  slots: spec.guest.memorySlots?.use ?? 1,
  qemuStatus: target ? 'inmigrate' : 'running',
  migration: 'none',
  startedAt: Date.now(),
};
if (!target) setTimeout(() => (state.ready = true), bootDelayMs);

function token(): string {
  try {
    return readFileSync(tokenFile, 'utf8').trim();
  } catch {
    return '';
  }
}

function notify(host: string): void {
  const req = request({ host, port: spec.runnerPort ?? 25183, path: '/__fake/incoming', method: 'POST' });
  req.on('error', () => undefined);
  req.end();
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const send = (code: number, body?: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  if (path === '/ready')
    return send(state.ready ? 200 : 503, state.ready ? 'ready' : { error: 'guest not up' });
  if (path === '/__fake/incoming') {
    state.qemuStatus = 'running';
    state.migration = 'completed'; // the incoming stream, as QEMU's query-migrate reports it on a target
    state.ready = true;
    return send(200);
  }
  if (!bearerMatches(req.headers.authorization, token())) return send(401, { error: 'unauthorized' });
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const info = () => ({ status: state.migration, totalTimeMs: Date.now() - state.startedAt });
    switch (`${req.method} ${path}`) {
      case 'GET /status':
        return send(200, {
          guestReady: state.ready,
          qemuStatus: state.qemuStatus,
          accel: 'tcg',
          arch: 'amd64',
          networkMode: 'user',
          degraded: [],
          cpuScalingMode: spec.cpuScalingMode ?? 'QmpScaling',
          cpus: {
            use: formatMilliCpu(state.cpu),
            plugged: Math.ceil(state.cpu / 1000),
            min: spec.guest.cpus?.min,
            max: spec.guest.cpus?.max,
          },
          memory: {
            slots: state.slots,
            requestedSlots: state.slots,
            minSlots: spec.guest.memorySlots?.min,
            maxSlots: spec.guest.memorySlots?.max,
            slotSizeBytes: slotBytes,
            sizeBytes: state.slots * slotBytes,
            baseBytes: slotBytes,
            pluggedBytes: (state.slots - 1) * slotBytes,
          },
          migrationRole: target ? 'target' : state.migration === 'none' ? 'none' : 'source',
          uptimeSeconds: (Date.now() - state.startedAt) / 1000,
        });
      case 'GET /cpu_current':
        return send(200, { VCPUs: formatMilliCpu(state.cpu) });
      case 'POST /cpu_change':
        state.cpu = parseMilliCpu(body.VCPUs);
        return send(200);
      case 'PUT /memory':
        state.slots = Number(body.slots);
        return send(200, { slots: state.slots });
      case 'GET /migration':
        return send(200, info());
      case 'GET /qemu': {
        const facts = { qemuStatus: state.qemuStatus, migrationStatus: state.migration };
        return send(200, {
          qemuStatus: state.qemuStatus,
          running: state.qemuStatus === 'running',
          migrationRole: target ? 'target' : state.migration === 'none' ? 'none' : 'source',
          migration: info(),
          guest: guestCustody(facts),
        });
      }
      case 'POST /migration':
        if (state.migration === 'active') return send(409, { error: 'already migrating' });
        state.migration = 'active';
        setTimeout(() => {
          if (failMigration) {
            state.migration = 'failed';
            return;
          }
          // As QEMU: the source pauses for the switch-over, the target starts the guest, then the
          // source reports completed.
          state.qemuStatus = 'finish-migrate';
          state.migration = 'device';
          notify(String(body.targetHost));
          setTimeout(() => {
            state.migration = 'completed';
            state.qemuStatus = 'postmigrate';
            setTimeout(
              () => process.exit(0),
              Number(process.env.FAKE_RUNNER_EXIT_AFTER_MIGRATION_MS ?? '3000'),
            );
          }, 100);
        }, 500);
        return send(202, info());
      case 'DELETE /migration':
        state.migration = 'cancelled';
        return send(200, info());
      default:
        return send(404, { error: `no route ${req.method} ${path}` });
    }
  });
});

server.listen(spec.runnerPort ?? 25183, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
