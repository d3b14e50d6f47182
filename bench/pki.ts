/**
 * The operator's per-VM migration certificate (issue 21): issued in-process (operator/pki/x509.ts)
 * against the openssl CLI path it replaced — key + CSR, then signing, two child processes in a temp
 * directory — reproduced here as the same-run baseline. Cheap: no cluster, ~15 s. The baseline
 * needs the `openssl` CLI; without it only the in-process rows are reported.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createMigrationCa, issueMigrationCertificate, type KeyPair } from '../operator/migration-tls';
import { percentile } from './percentile';
import type { BenchRow } from './table';

const run = promisify(execFile);
const ISSUES = 50;
const WARM_UP = 100;
const HOSTNAME = '0b7c6d8e-1111-2222-3333-444455556666.migration.neonvm';

/** The operator's code before operator/pki/x509.ts (migration-pki.ts at 2543b07), verbatim in effect. */
async function issueWithOpensslCli(ca: KeyPair, hostname: string): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-bench-pki-'));
  const f = (n: string) => join(dir, n);
  try {
    await Promise.all([
      writeFile(f('ca.crt'), ca.cert),
      writeFile(f('ca.key'), ca.key, { mode: 0o600 }),
      writeFile(
        f('ext'),
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
          `extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${hostname}\n`,
      ),
    ]);
    await run('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', `/CN=${hostname}`,
    ]); // prettier-ignore
    await run('openssl', [
      'x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', '365', '-out', f('tls.crt'), '-extfile', f('ext'),
    ]); // prettier-ignore
    const [cert, key] = await Promise.all([readFile(f('tls.crt'), 'utf8'), readFile(f('tls.key'), 'utf8')]);
    return { cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Sample {
  /** Wall milliseconds of each issue, one at a time. */
  readonly wallMs: number[];
  /** This process's CPU (all its threads; not its children's) per issue, mean. */
  readonly cpuMsEach: number;
}

async function measure(issue: () => Promise<KeyPair>): Promise<Sample> {
  // The operator issues certificates all day: measure it warm (the first issue, ~30 ms, loads and
  // compiles the library; the first ~100 are slower while V8 optimizes the ASN.1 code).
  for (let i = 0; i < WARM_UP; i++) await issue();
  const wallMs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ISSUES; i++) {
    const t0 = process.hrtime.bigint();
    await issue();
    wallMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMsEach: (cpu.user + cpu.system) / 1000 / ISSUES };
}

export default async function benchPki(): Promise<BenchRow[]> {
  const ca = await createMigrationCa();
  const ours = await measure(() => issueMigrationCertificate(ca, HOSTNAME));
  const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
  const cli = haveOpenssl ? await measure(() => issueWithOpensslCli(ca, HOSTNAME)) : undefined;
  const baselineName = 'openssl CLI (2 processes + temp dir)';
  const rows: BenchRow[] = [];
  for (const p of [50, 99]) {
    const value = percentile(ours.wallMs, p);
    const baseline = cli && percentile(cli.wallMs, p);
    rows.push({
      name: `migration certificate issue p${p} (${ISSUES}, one at a time, in-process)`,
      value,
      unit: 'ms',
      ...(baseline === undefined ? {} : { baseline, baselineName, ratio: value / baseline }),
    });
  }
  rows.push({
    // What the event loop pays matters most (issue 21); the openssl children's own CPU is not counted,
    // and in the operator the baseline's fork of a ~130 MiB process costs more than in this one.
    name: 'operator-process CPU per migration certificate (in-process)',
    value: ours.cpuMsEach,
    unit: 'ms',
    ...(cli
      ? {
          baseline: cli.cpuMsEach,
          baselineName: `${baselineName}, children not counted`,
          ratio: ours.cpuMsEach / cli.cpuMsEach,
        }
      : {}),
  });
  return rows;
}
