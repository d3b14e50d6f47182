/**
 * QEMU version gates (pure). The runner learns its QEMU's version from the QMP greeting; an unknown
 * version counts as older than every gate, i.e. as Debian 12's 7.2, the oldest QEMU the runner supports
 * (the cautious side for each gate: stop-and-copy under TCG, block migration, `compress` allowed).
 */

/** Whether `qemu` is older than `major.minor` (unknown: yes). */
export function qemuBefore(
  qemu: { readonly major: number; readonly minor: number } | undefined,
  major: number,
  minor: number,
): boolean {
  return qemu === undefined || qemu.major < major || (qemu.major === major && qemu.minor < minor);
}
