/**
 * The change classifier: given the old and the new VirtualMachine, says for each changed field whether
 * it is applied live (CPU/memory hot-plug, metadata), waits for the next runner pod (restart), or is
 * rejected, and why. Feeds `neonvm diff` and the Pulumi preview warning. Uses the same policy table as
 * the update validation, and the validation itself for values that are out of range.
 */
import { canonicalizeVirtualMachine, defaultVirtualMachine } from './defaults';
import { policyFor } from './field-policy';
import { childPath, formatFieldErrors } from './field-error';
import type { VirtualMachine } from './schema/virtual-machine';
import { validateVirtualMachineUpdate } from './validation/virtual-machine';
import { deepEqual } from './validation/util';

export type ChangeVerdict = 'live' | 'restart' | 'rejected';

export interface FieldChange {
  readonly path: string;
  readonly verdict: ChangeVerdict;
  readonly reason: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface ChangeReport {
  readonly changes: readonly FieldChange[];
  /** The strongest verdict: rejected > restart > live; `none` when nothing changed. */
  readonly overall: ChangeVerdict | 'none';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf-level differences; arrays and policy-owned objects compare as a whole at the policy path. */
function diffPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (deepEqual(a, b)) return;
  const policy = policyFor(path);
  const atomic =
    policy !== undefined &&
    policy.path === path &&
    policy.kind !== 'restart' &&
    !path.startsWith('metadata.');
  if (!atomic && isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      diffPaths(a[key], b[key], childPath(path, key), out);
    return;
  }
  const one = isObject(a) ? a : isObject(b) ? b : undefined;
  if (!atomic && one && Object.keys(one).length > 0 && (a === undefined || b === undefined)) {
    const obj = one;
    for (const key of Object.keys(obj))
      diffPaths(
        isObject(a) ? a[key] : undefined,
        isObject(b) ? b[key] : undefined,
        childPath(path, key),
        out,
      );
    return;
  }
  out.push(path);
}

const RANK: Record<ChangeVerdict, number> = { live: 0, restart: 1, rejected: 2 };

export function classifyVirtualMachineChange(oldVm: VirtualMachine, newVm: VirtualMachine): ChangeReport {
  // Compare what the API server would store, so `use: "2"` vs `use: 2` or an explicit default is no change.
  const before = canonicalizeVirtualMachine(defaultVirtualMachine(oldVm));
  const after = canonicalizeVirtualMachine(defaultVirtualMachine(newVm));
  const paths: string[] = [];
  diffPaths(before.spec, after.spec, 'spec', paths);
  for (const key of ['labels', 'annotations'] as const) {
    diffPaths(before.metadata?.[key], after.metadata?.[key], `metadata.${key}`, paths);
  }
  const errors = validateVirtualMachineUpdate(before, after);
  const changes = paths.map((path): FieldChange => {
    const b = readPath(before, path);
    const a = readPath(after, path);
    const error = errors.find(
      (e) => e.path === path || path.startsWith(`${e.path}.`) || e.path.startsWith(`${path}.`),
    );
    // An error below the changed path (rootDisk.size under a changed rootDisk) names its field and value.
    if (error)
      return {
        path,
        verdict: 'rejected',
        reason: error.path === path ? error.message : formatFieldErrors([error]),
        before: b,
        after: a,
      };
    const policy = policyFor(path);
    if (!policy)
      return {
        path,
        verdict: 'restart',
        reason: 'takes effect when the runner pod is next created',
        before: b,
        after: a,
      };
    if (policy.kind === 'set-once') {
      return {
        path,
        verdict: 'restart',
        reason: 'set for the first time; takes effect when the runner pod is next created',
        before: b,
        after: a,
      };
    }
    if (policy.kind === 'live' && policy.liveWithin && readPath(before, policy.liveWithin) === undefined) {
      return {
        path,
        verdict: 'restart',
        reason: `${policy.liveWithin} is new; takes effect when the runner pod is next created`,
        before: b,
        after: a,
      };
    }
    const verdict: ChangeVerdict =
      policy.kind === 'live' ? 'live' : policy.kind === 'restart' ? 'restart' : 'rejected';
    return { path, verdict, reason: policy.reason, before: b, after: a };
  });
  const expanded = changes.flatMap((c) =>
    LIST_MAP_KEYS[c.path] ? perItemField(c, LIST_MAP_KEYS[c.path]) : [c],
  );
  return { changes: expanded, overall: overallOf(expanded) };
}

/** Lists whose items are keyed by a field (list-map), reported per item field rather than as a whole. */
const LIST_MAP_KEYS: Readonly<Record<string, string>> = { 'spec.disks': 'name' };

/**
 * One change per changed field of each item (`spec.disks[name=data].emptyDisk.size`), items matched
 * by their key, with the list's verdict: the whole list is immutable, but the user needs to see which
 * disk and which field of it changed.
 */
function perItemField(change: FieldChange, key: string): FieldChange[] {
  const index = (list: unknown) =>
    new Map(
      (Array.isArray(list) ? list : []).map((item: unknown) => [
        String(isObject(item) ? item[key] : item),
        item,
      ]),
    );
  const before = index(change.before);
  const after = index(change.after);
  const out: FieldChange[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const leaves: string[] = [];
    const itemPath = `${change.path}[${key}=${name}]`;
    const b = before.get(name);
    const a = after.get(name);
    if (b === undefined || a === undefined) leaves.push(itemPath);
    else diffLeaves(b, a, itemPath, leaves);
    for (const path of leaves) {
      const rel = path.slice(itemPath.length);
      out.push({ ...change, path, before: readPath(b, rel), after: readPath(a, rel) });
    }
  }
  return out.length > 0 ? out : [change];
}

/** Leaf differences without policies (inside one list item). */
function diffLeaves(a: unknown, b: unknown, path: string, out: string[]): void {
  if (deepEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      diffLeaves(a[key], b[key], childPath(path, key), out);
    return;
  }
  out.push(path);
}

function overallOf(changes: readonly FieldChange[]): ChangeVerdict | 'none' {
  return changes.reduce<ChangeVerdict | 'none'>(
    (acc, c) => (acc === 'none' || RANK[c.verdict] > RANK[acc] ? c.verdict : acc),
    'none',
  );
}

function readPath(obj: unknown, path: string): unknown {
  const segs = path.match(/[^.[\]]+/g) ?? [];
  let cur: unknown = obj;
  for (const seg of segs) {
    if (!isObject(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
