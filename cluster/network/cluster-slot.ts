import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SLOTS } from './addressing';
import { processExists } from '../../host';

/** /run is a tmpfs: slot files vanish on reboot together with the namespaces they guarded. */
const SLOT_DIR = process.env.NEONVM_NET_SLOT_DIR ?? '/run/neonvm-net';

export interface SlotLease {
  slot: number;
  /** True when the slot belonged to a process that died: its namespaces and links may still exist. */
  stale: boolean;
  release(): void;
}

/**
 * Claims a free network slot for this process with an exclusive-create PID file. A file whose process
 * is gone is taken over (and reported `stale` so the caller cleans up the dead run's leftovers).
 */
export function acquireSlot(): SlotLease {
  mkdirSync(SLOT_DIR, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const file = join(SLOT_DIR, `slot-${slot}.pid`);
    let stale = false;
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    } catch {
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isFinite(owner) && processExists(owner)) continue;
      // Take over: rewrite and re-read to lose gracefully against another process doing the same.
      writeFileSync(file, `${process.pid}\n`);
      if (Number.parseInt(readFileSync(file, 'utf8'), 10) !== process.pid) continue;
      stale = true;
    }
    return { slot, stale, release: () => rmSync(file, { force: true }) };
  }
  throw new Error(`all ${MAX_SLOTS} local cluster network slots are in use (see ${SLOT_DIR})`);
}
