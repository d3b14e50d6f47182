/**
 * The accelerator verdict, remembered per host boot: the KVM probe boots a kernel for up to 4 s, and
 * whether KVM works cannot change until the host reboots, so every runner after the first reuses it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../../host';
import type { Clock } from '../../host';
import { probeAccel, type AccelVerdict } from '../qemu/kvm-probe';

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

export async function accelVerdict(
  kernel: string,
  env: NodeJS.ProcessEnv = process.env,
  clock?: Clock,
): Promise<AccelVerdict & { cached: boolean }> {
  if (env.NEONVM_ACCEL === 'kvm' || env.NEONVM_ACCEL === 'tcg')
    return { ...(await probeAccel({ kernel, env, clock })), cached: false };
  const file = join(cacheRoot(env), 'accel', `${bootId()}.json`);
  try {
    return { ...(JSON.parse(await readFile(file, 'utf8')) as AccelVerdict), cached: true };
  } catch {
    // not probed yet in this boot
  }
  const verdict = await probeAccel({ kernel, env, clock });
  await mkdir(join(cacheRoot(env), 'accel'), { recursive: true });
  await writeFile(`${file}.${process.pid}`, JSON.stringify(verdict));
  await rename(`${file}.${process.pid}`, file);
  return { ...verdict, cached: false };
}
