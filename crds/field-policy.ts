/**
 * What may change on a live VirtualMachine, and how. One table feeds both the update validation
 * (immutable and set-once fields) and the change classifier (what hot-plugs live, what waits for the
 * next runner pod), so the two can never disagree.
 */

export type FieldPolicyKind =
  /** Rejected on update. */
  | 'immutable'
  /** May go from unset to a value once; never changed or unset afterwards. */
  | 'set-once'
  /** Applied to the running VM without a restart. */
  | 'live'
  /** Accepted, but takes effect when the runner pod is next created (restart or live migration). */
  | 'restart';

export interface FieldPolicy {
  /** Dotted path; a policy covers the field and everything below it. */
  readonly path: string;
  readonly kind: FieldPolicyKind;
  readonly reason: string;
  /**
   * For `live` fields inside an optional object: the change is live only when that object already
   * existed (adding it shapes the runner pod, so it waits for the next one).
   */
  readonly liveWithin?: string;
}

const immutable = (path: string, reason = 'fixed when the VM is created'): FieldPolicy => ({
  path,
  kind: 'immutable',
  reason,
});
const live = (path: string, reason: string): FieldPolicy => ({ path, kind: 'live', reason });
const restart = (
  path: string,
  reason = 'shapes the runner pod; takes effect when the runner pod is next created',
): FieldPolicy => ({
  path,
  kind: 'restart',
  reason,
});

/** Most specific first is not required: lookups pick the longest matching path. */
export const VIRTUAL_MACHINE_FIELD_POLICIES: readonly FieldPolicy[] = [
  // upstream's immutable list (§2.3)
  immutable('spec.guest.cpus.min', 'the vCPU layout is fixed at boot'),
  immutable('spec.guest.cpus.max', 'the number of vCPU slots is fixed at boot'),
  immutable('spec.guest.memorySlots.min', 'base memory is fixed at boot'),
  immutable('spec.guest.memorySlots.max', 'the virtio-mem device size is fixed at boot'),
  immutable('spec.guest.ports'),
  immutable('spec.guest.rootDisk'),
  immutable('spec.guest.command'),
  immutable('spec.guest.args'),
  immutable('spec.guest.env'),
  immutable('spec.guest.settings'),
  immutable('spec.disks'),
  immutable('spec.podResources'),
  immutable('spec.enableAcceleration'),
  immutable('spec.enableSSH'),
  immutable('spec.initScript'),
  immutable('spec.enableNetworkMonitoring'),
  // FIX: upstream lets memorySlotSize change, which breaks the running virtio-mem device's arithmetic.
  immutable(
    'spec.guest.memorySlotSize',
    'the virtio-mem block arithmetic of the running guest depends on it',
  ),
  { path: 'spec.cpuScalingMode', kind: 'set-once', reason: 'may only be set once' },
  { path: 'spec.targetArchitecture', kind: 'set-once', reason: 'may only be set once' },
  live('spec.guest.cpus.use', 'CPU hot-plug into the running guest'),
  live('spec.guest.memorySlots.use', 'memory hot-plug (virtio-mem) into the running guest'),
  live('spec.targetRevision', 'recorded in status.currentRevision once the VM runs with it'),
  live('spec.overcommit', 'updates the runner pod annotation for the scheduler'),
  live('spec.restartPolicy', 'controller behaviour; applies from the next runner exit'),
  live('metadata.labels', 'propagated to the runner pod'),
  live('metadata.annotations', 'propagated to the runner pod'),
  restart('spec.guest.kernelImage'),
  restart('spec.guest.appendKernelCmdline'),
  restart('spec.guest.memhpAutoMovableRatio'),
  // FIX: upstream keeps the old certificate when these change; here the operator re-issues it and the
  // runner syncs it into the running guest.
  ...(['serverName', 'certificateIssuer', 'expireAfter', 'renewBefore'] as const).map((f): FieldPolicy => ({
    path: `spec.tls.${f}`,
    kind: 'live',
    reason: 'the certificate is issued again and synced into the running guest',
    liveWithin: 'spec.tls',
  })),
  restart('spec.tls', 'the runner pod mounts the certificate Secret at spec.tls.mountPath'),
  restart('spec'),
];

export function policyFor(
  path: string,
  table: readonly FieldPolicy[] = VIRTUAL_MACHINE_FIELD_POLICIES,
): FieldPolicy | undefined {
  let best: FieldPolicy | undefined;
  for (const p of table) {
    const covers = path === p.path || path.startsWith(`${p.path}.`) || path.startsWith(`${p.path}[`);
    if (covers && (!best || p.path.length > best.path.length)) best = p;
  }
  return best;
}

/** Reads a dotted path (no indexes) from an object. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * An UPDATE that omits a set-once field keeps its stored value. `kubectl replace -f` and ArgoCD's
 * `Replace=true` send the user's manifest as it is in git, without the fields the operator or the
 * webhook set at create (spec.cpuScalingMode comes from the operator's --default-cpu-scaling-mode);
 * upstream refuses such an update as a change of the set-once field. Omitting is not unsetting: only
 * an explicit, different value is a change. Returns a copy of `next` (the mutating webhook's input).
 */
export function keepStoredSetOnceFields<T extends object>(
  stored: unknown,
  next: T,
  table: readonly FieldPolicy[] = VIRTUAL_MACHINE_FIELD_POLICIES,
): T {
  const out = structuredClone(next);
  for (const policy of table) {
    if (policy.kind !== 'set-once') continue;
    const value = getPath(stored, policy.path);
    if (value === undefined || getPath(out, policy.path) !== undefined) continue;
    const segs = policy.path.split('.');
    let cur = out as Record<string, unknown>;
    for (const seg of segs.slice(0, -1)) {
      if (typeof cur[seg] !== 'object' || cur[seg] === null) cur[seg] = {};
      cur = cur[seg] as Record<string, unknown>;
    }
    cur[segs[segs.length - 1]] = structuredClone(value);
  }
  return out;
}
