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

/**
 * Field managers of the autoscaler's writes. Upstream's autoscaler-agent patches VMs without a
 * FieldManager, so the API server records it under its user agent's program name. GitOps tools trust
 * these managers for the fields above (ArgoCD `managedFieldsManagers`): what the autoscaler wrote is
 * not a drift, while a change made in git still applies.
 */
export const AUTOSCALER_FIELD_MANAGERS = ['autoscaler-agent'] as const;
