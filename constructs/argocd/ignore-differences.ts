/**
 * `ignoreDifferences` entries for an ArgoCD Application that deploys NeonVM objects. Use them with the
 * `RespectIgnoreDifferences=true` and `ServerSideApply=true` sync options, so a sync neither reports
 * nor reverts what the autoscaler (or the operator, for the webhook caBundle) owns.
 */
import { GROUP, VIRTUAL_MACHINE } from '../../crds';
import { AUTOSCALER_OWNED_POINTERS } from '../autoscaler-owned-fields';

export interface IgnoreDifference {
  readonly group: string;
  readonly kind: string;
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
}

export interface IgnoreDifferencesOptions {
  /**
   * Also ignore the webhook `caBundle` the operator patches in (self-managed certificates).
   * @default true
   */
  readonly webhookCaBundle?: boolean;
}

export function argoCdIgnoreDifferences(options: IgnoreDifferencesOptions = {}): IgnoreDifference[] {
  const entries: IgnoreDifference[] = [
    { group: GROUP, kind: VIRTUAL_MACHINE.kind, jsonPointers: [...AUTOSCALER_OWNED_POINTERS] },
  ];
  if (options.webhookCaBundle ?? true) {
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      entries.push({
        group: 'admissionregistration.k8s.io',
        kind,
        jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
      });
    }
  }
  return entries;
}

/** The sync options these entries need. */
export const ARGOCD_SYNC_OPTIONS: readonly string[] = [
  'ServerSideApply=true',
  'RespectIgnoreDifferences=true',
];
