/**
 * Node affinity of a runner pod. FIX of upstream: its os/arch requirement was appended as a separate
 * node selector term, and terms are ORed, so a user term made the os/arch constraint optional. Here
 * the requirement is merged INTO every user term (AND), and is the only term when there are none.
 */
import type { V1Affinity, V1NodeSelectorRequirement, V1NodeSelectorTerm } from '@kubernetes/client-node';
import type { TargetArchitecture } from '../../crds';

export function platformRequirements(arch: TargetArchitecture | undefined): V1NodeSelectorRequirement[] {
  const reqs: V1NodeSelectorRequirement[] = [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }];
  if (arch) reqs.push({ key: 'kubernetes.io/arch', operator: 'In', values: [arch] });
  return reqs;
}

/** Adds `requirements` to every term (or makes them the only term). The input is not modified. */
export function requireInEveryTerm(
  terms: readonly V1NodeSelectorTerm[] | undefined,
  requirements: readonly V1NodeSelectorRequirement[],
): V1NodeSelectorTerm[] {
  if (!terms || terms.length === 0) return [{ matchExpressions: [...requirements] }];
  return terms.map((t) => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), ...requirements] }));
}

export function runnerPodAffinity(
  userAffinity: V1Affinity | undefined,
  arch: TargetArchitecture | undefined,
  extraRequirements: readonly V1NodeSelectorRequirement[] = [],
): V1Affinity {
  const affinity: V1Affinity = structuredClone(userAffinity ?? {});
  const nodeAffinity = affinity.nodeAffinity ?? {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: requireInEveryTerm(required?.nodeSelectorTerms, [
      ...platformRequirements(arch),
      ...extraRequirements,
    ]),
  };
  affinity.nodeAffinity = nodeAffinity;
  return affinity;
}

/** Terms satisfying both `a` and `b` (each is an OR of terms): the pairwise conjunctions. */
export function intersectTerms(
  a: readonly V1NodeSelectorTerm[] | undefined,
  b: readonly V1NodeSelectorTerm[] | undefined,
): V1NodeSelectorTerm[] | undefined {
  if (!a || a.length === 0) return b ? [...b] : undefined;
  if (!b || b.length === 0) return [...a];
  return a.flatMap((x) =>
    b.map((y) => {
      const term: V1NodeSelectorTerm = {
        matchExpressions: [...(x.matchExpressions ?? []), ...(y.matchExpressions ?? [])],
      };
      const fields = [...(x.matchFields ?? []), ...(y.matchFields ?? [])];
      if (fields.length > 0) term.matchFields = fields;
      return term;
    }),
  );
}
