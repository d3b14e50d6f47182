/**
 * Fields the autoscaler-agent changes at run time with a JSON patch (upstream §1.7). GitOps tools and
 * Pulumi must not fight it over them: ArgoCD ignores their differences, Pulumi offers an
 * `ignoreChanges` preset. One list, used by both.
 */
export const AUTOSCALER_OWNED_POINTERS = [
  '/spec/guest/cpus/use',
  '/spec/guest/memorySlots/use',
  '/spec/targetRevision',
] as const;

/** The same fields as dotted property paths (Pulumi's `ignoreChanges` syntax). */
export const AUTOSCALER_OWNED_PATHS: readonly string[] = AUTOSCALER_OWNED_POINTERS.map((p) =>
  p.slice(1).replace(/\//g, '.'),
);
