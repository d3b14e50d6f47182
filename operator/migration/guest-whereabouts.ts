/**
 * Where the guest of a migrating VM is, from what both ends report (pure). Every decision that could
 * delete a pod goes through this: a pod that may hold the only running guest is never deleted, and a
 * migration that already handed the guest over is never failed (upstream deleted the live target on a
 * lost status write or a source that died after completion).
 *
 * Each end is judged from its pod and its runner's `GET /qemu`:
 * - `gone`: no pod, or its containers have ended (the kubelet confirmed it: no QEMU runs there);
 * - `starting`: the pod's containers have not started (no QEMU yet);
 * - `unknown`: the pod runs but its runner did not answer — it may hold the guest;
 * - a {@link GuestCustody}: what the runner's QEMU reports.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { MigrationInfo } from '../../crds';
import type { DiskTransport, GuestCustody } from '../../runner/api';

/** What a runner said about its QEMU (`GET /qemu`), reduced to what the decisions use. */
export interface QemuReport {
  readonly custody: GuestCustody;
  readonly qemuStatus: string;
  /** This QEMU's `query-migrate` (outgoing on a source, incoming on a target). */
  readonly migration: MigrationInfo;
  /** QEMU's description of a failed migration, when it gave one. */
  readonly migrationError?: string;
  /** The runner's QEMU version and, on a target, how it receives the disks (passed to the source). */
  readonly qemuVersion?: string;
  readonly incomingDisks?: DiskTransport;
}

export type QemuObservation = QemuReport | { readonly error: string };

export type EndState = 'gone' | 'starting' | 'unknown' | GuestCustody;

export function endState(pod: V1Pod | undefined, report: QemuObservation | undefined): EndState {
  const phase = pod?.status?.phase;
  if (!pod || phase === 'Succeeded' || phase === 'Failed') return 'gone';
  if (phase !== 'Running') return 'starting';
  if (!report || 'error' in report) return 'unknown';
  return report.custody;
}

/** Whether an end in this state may hold a copy of the guest (unknown counts: it may). */
export function mayHold(s: EndState): boolean {
  return s === 'running' || s === 'paused' || s === 'postcopy' || s === 'unknown';
}

/** Migration statuses in which bytes of the stream have reached the target. */
const STREAMING: readonly string[] = ['active', 'device', 'pre-switchover', 'completed'];

export type Whereabouts =
  /** The target has the whole guest and the source does not run it: the migration succeeded. */
  | { readonly kind: 'in-target' }
  /** Both run a whole guest (the source resumed after a failure QEMU reported only to it). */
  | { readonly kind: 'both' }
  /** The source holds the guest; the stream has not begun (target waiting, or not yet asked). */
  | { readonly kind: 'in-source' }
  /** Pre-copy in flight: the source holds the guest, the target receives. */
  | { readonly kind: 'streaming' }
  /** Post-copy in flight: the guest is split, both ends alive. */
  | { readonly kind: 'postcopy' }
  /** The guest exists nowhere any more. */
  | { readonly kind: 'lost'; readonly postcopy: boolean; readonly why: string }
  /** Not decidable now (an end unreachable, or about to settle): act on nothing destructive. */
  | { readonly kind: 'unsettled'; readonly why: string };

export interface Ends {
  readonly source: EndState;
  readonly target: EndState;
  /** The target's incoming migration status, when it answered. */
  readonly targetStream?: string;
  /** The source's outgoing migration status, when it answered. */
  readonly sourceStream?: string;
}

export function whereabouts({ source: s, target: t, targetStream, sourceStream }: Ends): Whereabouts {
  const sourceRuns = s === 'running';
  const targetHasAll = t === 'running' || t === 'paused';
  if (targetHasAll) {
    if (sourceRuns) return { kind: 'both' };
    // finish-migrate: the source paused for the switch-over; it completes once the target confirms.
    if (s === 'paused') return { kind: 'unsettled', why: 'the source is switching over to the target' };
    return { kind: 'in-target' };
  }
  if (s === 'postcopy' || t === 'postcopy') {
    const other = s === 'postcopy' ? t : s;
    if (other === 'gone' || other === 'stopped' || other === 'starting')
      return {
        kind: 'lost',
        postcopy: true,
        why: `post-copy: the ${s === 'postcopy' ? 'target' : 'source'} ended while the guest was split between both`,
      };
    return { kind: 'postcopy' };
  }
  if (t === 'incoming' || t === 'starting') {
    const streamStarted =
      (targetStream !== undefined && STREAMING.includes(targetStream)) ||
      (sourceStream !== undefined && STREAMING.includes(sourceStream) && sourceStream !== 'completed');
    if (s === 'running' || s === 'paused') return { kind: streamStarted ? 'streaming' : 'in-source' };
    if (s === 'unknown') return { kind: 'unsettled', why: 'the source runner does not answer' };
    if (s === 'handed-off')
      return { kind: 'unsettled', why: 'the source completed; the target is still loading the guest' };
    // The source is gone. A target that already received part of the stream settles by itself
    // (it runs the guest if the stream was complete, else its QEMU exits).
    if (t === 'incoming' && targetStream !== undefined && STREAMING.includes(targetStream))
      return { kind: 'unsettled', why: 'the source ended; the target is settling the stream' };
    return { kind: 'lost', postcopy: false, why: 'the source ended before the stream completed' };
  }
  if (t === 'unknown') {
    if (sourceRuns || s === 'paused') return { kind: 'unsettled', why: 'the target runner does not answer' };
    return { kind: 'unsettled', why: 'neither runner can say where the guest is' };
  }
  // The target ended (gone, stopped) or handed the guest on (a later migration's source).
  if (sourceRuns || s === 'paused') return { kind: 'in-source' };
  if (s === 'unknown') return { kind: 'unsettled', why: 'the source runner does not answer' };
  if (s === 'handed-off')
    return { kind: 'lost', postcopy: false, why: 'the target ended after the source handed the guest over' };
  return { kind: 'lost', postcopy: false, why: 'both the source and the target ended' };
}
