/**
 * Who holds the guest, from one QEMU's facts (pure). Runner and operator share this function, so the
 * runner's `GET /qemu` `guest` field and the operator's reading of older runners' `/status` agree.
 */
import type { GuestCustody } from './wire';

/** Migration states in which the guest's memory is split between source and target. */
const POSTCOPY_STATES: readonly string[] = ['postcopy-active', 'postcopy-paused', 'postcopy-recover'];
/** Run states of a source whose outgoing migration completed (the guest runs in the target). */
const HANDED_OFF_STATES: readonly string[] = ['finish-migrate', 'postmigrate'];
/** Run states in which QEMU has ended the guest for good. */
const ENDED_STATES: readonly string[] = ['shutdown', 'guest-panicked', 'internal-error'];

export interface QemuFacts {
  readonly qemuStatus: string;
  /** This QEMU's `query-migrate` status (`none` when no migration ever ran here). */
  readonly migrationStatus: string;
  /**
   * The runner saw this QEMU's current migration switch to post-copy before it failed or was
   * cancelled (Migrator.staleAfterPostcopy): the guest is split with the other end whatever QEMU's run
   * state says (QEMU 10 restarts such a source). Runners before it do not say.
   */
  readonly staleAfterPostcopy?: boolean;
}

export function guestCustody(f: QemuFacts): GuestCustody {
  if (POSTCOPY_STATES.includes(f.migrationStatus) || f.staleAfterPostcopy) return 'postcopy';
  if (ENDED_STATES.includes(f.qemuStatus)) return 'stopped';
  if (f.qemuStatus === 'inmigrate') return 'incoming';
  if (f.qemuStatus === 'running') return 'running';
  // A source that completed stays paused in `postmigrate`: the target runs the guest. QEMU 7.2 marks
  // the migration `completed` a moment before it leaves `finish-migrate` for `postmigrate` (seen by
  // runner/source-loss.int.test.ts), and by then the target has confirmed the whole state over the
  // return path: handed off too, not a paused holder. Any other paused state (a failure after the
  // switch-over) is treated as still holding the guest.
  if (HANDED_OFF_STATES.includes(f.qemuStatus) && f.migrationStatus === 'completed') return 'handed-off';
  return 'paused';
}

/** Whether a QEMU in this custody may hold the only running copy of the guest. */
export function mayHoldGuest(custody: GuestCustody): boolean {
  return custody === 'running' || custody === 'paused' || custody === 'postcopy';
}
