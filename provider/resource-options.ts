/** Resource-option presets shared by the components. */
import { AUTOSCALER_OWNED_PATHS } from '../constructs/objects';

/**
 * `ignoreChanges` for the fields the autoscaler-agent patches at run time (`spec.guest.cpus.use`,
 * `spec.guest.memorySlots.use`, `spec.targetRevision`), so `pulumi up` does not undo its scaling.
 */
export const AUTOSCALER_IGNORE_CHANGES: readonly string[] = AUTOSCALER_OWNED_PATHS;

export const WAIT_FOR_ANNOTATION = 'pulumi.com/waitFor';
/** The provider waits for this before it reports the VM created. */
export const WAIT_FOR_RUNNING = 'jsonpath={.status.phase}=Running';

/** How long the Kubernetes provider waits for a resource, in seconds (its own annotation). */
export const TIMEOUT_ANNOTATION = 'pulumi.com/timeoutSeconds';
