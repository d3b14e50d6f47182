/** Facts about the host's CPUs from /proc/cpuinfo. */
import { readFileSync } from 'node:fs';

/** First "cpu MHz" of /proc/cpuinfo (x86; undefined where the kernel does not report it). */
export function parseCpuMhz(cpuinfo: string): number | undefined {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  return m ? Number(m[1]) : undefined;
}

export function hostCpuMhz(cpuinfo?: string): number | undefined {
  try {
    return parseCpuMhz(cpuinfo ?? readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return undefined; // no /proc (not Linux): no fact
  }
}
