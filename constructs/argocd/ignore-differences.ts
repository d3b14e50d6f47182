/**
 * `ignoreDifferences` entries for an ArgoCD Application that deploys NeonVM objects. Use them with the
 * `RespectIgnoreDifferences=true` and `ServerSideApply=true` sync options, so a sync neither reports
 * nor reverts what the autoscaler (or the operator, for the webhook caBundle) owns.
 *
 * VirtualMachines are matched by field manager, not by JSON pointer: pointers would hide every change
 * of `cpus.use`/`memorySlots.use`, git's included (RespectIgnoreDifferences then keeps the live value
 * at every sync, so a commit could never resize a VM). `managedFieldsManagers` ignores exactly the
 * fields the autoscaler last wrote; the ones git last set stay under git's control.
 */
import { GROUP, VIRTUAL_MACHINE } from '../../crds';
import { AUTOSCALER_FIELD_MANAGERS } from '../autoscaler-owned-fields';

export interface IgnoreDifference {
  readonly group: string;
  readonly kind: string;
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
  readonly managedFieldsManagers?: readonly string[];
}

export interface IgnoreDifferencesOptions {
  /**
   * Also ignore the webhook `caBundle` the operator patches in (self-managed certificates).
   * @default true
   */
  readonly webhookCaBundle?: boolean;
}

/** The VirtualMachine entry: fields written by the autoscaler's field managers. */
export function virtualMachineIgnoreDifference(): IgnoreDifference {
  return { group: GROUP, kind: VIRTUAL_MACHINE.kind, managedFieldsManagers: [...AUTOSCALER_FIELD_MANAGERS] };
}

export function argoCdIgnoreDifferences(options: IgnoreDifferencesOptions = {}): IgnoreDifference[] {
  const entries: IgnoreDifference[] = [virtualMachineIgnoreDifference()];
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
