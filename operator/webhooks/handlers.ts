/**
 * Admission handlers for VirtualMachine and VirtualMachineMigration, using exactly the defaulting,
 * canonicalisation and validation functions of `crds/`. Denials list every failing field path.
 */
import {
  DEFAULT_ADMISSION_POLICY,
  canonicalizeVirtualMachine,
  canonicalizeVirtualMachineMigration,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  keepStoredSetOnceFields,
  validateVirtualMachine,
  validateVirtualMachineMigration,
  validateVirtualMachineMigrationUpdate,
  validateVirtualMachineUpdate,
  validateVirtualMachinePolicy,
  validateVirtualMachinePolicyUpdate,
  type AdmissionPolicy,
  fieldError,
  type FieldError,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { allow, type AdmissionRequest, type AdmissionResponse } from './admission-review';
import { createJsonPatch } from './json-patch';

export type AdmissionHandler = (request: AdmissionRequest) => AdmissionResponse;

/** Objects (`namespace/name`) whose UPDATE validation failures are ignored (upstream escape hatch). */
export interface ValidationOptions {
  readonly skipUpdateValidationFor?: ReadonlySet<string>;
  readonly onSkippedValidation?: (request: AdmissionRequest, errors: readonly FieldError[]) => void;
}

/** The operator's admission policy and what it needs to know besides (crds AdmissionContext). */
export interface PolicyOptions {
  readonly policy: AdmissionPolicy;
  /** The operator's runner image, always allowed as spec.runnerImage. */
  readonly runnerImage?: string;
  /** The operator's namespace, whose NetworkAttachmentDefinitions every VM may name. */
  readonly operatorNamespace?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mutate(
  request: AdmissionRequest,
  transform: (obj: Record<string, unknown>) => unknown,
): AdmissionResponse {
  const obj = request.object;
  if (request.operation === 'DELETE' || !isObject(obj) || !isObject(obj.spec)) return allow(request.uid);
  let result: unknown;
  try {
    result = transform(structuredClone(obj));
  } catch {
    // Malformed input: leave it to the validating webhook, which reports it with field paths.
    return allow(request.uid);
  }
  const spec = isObject(result) ? result.spec : undefined;
  const ops = createJsonPatch(obj.spec, spec, '/spec');
  if (ops.length === 0) return allow(request.uid);
  return {
    uid: request.uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(ops)).toString('base64'),
  };
}

/** On UPDATE, set-once fields the request omits keep their stored value (crds keepStoredSetOnceFields). */
export const mutateVirtualMachine: AdmissionHandler = (request) =>
  mutate(request, (o) => {
    const vm = request.operation === 'UPDATE' ? keepStoredSetOnceFields(request.oldObject, o) : o;
    return canonicalizeVirtualMachine(defaultVirtualMachine(vm as VirtualMachine));
  });

export const mutateVirtualMachineMigration: AdmissionHandler = (request) =>
  mutate(request, (o) =>
    canonicalizeVirtualMachineMigration(defaultVirtualMachineMigration(o as VirtualMachineMigration)),
  );

export function denial(request: AdmissionRequest, errors: readonly FieldError[]): AdmissionResponse {
  const kind = request.kind.kind;
  const name =
    request.name ??
    (isObject(request.object) && isObject(request.object.metadata)
      ? String(request.object.metadata.name ?? '')
      : '');
  const list = errors.map((e) => `${e.path || '<root>'}: ${e.message}`);
  return {
    uid: request.uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: `${kind}.vm.neon.tech "${name}" is invalid: ${list.join('; ')}`,
      details: {
        name,
        group: 'vm.neon.tech',
        kind,
        causes: errors.map((e) => ({ reason: e.rule, message: e.message, field: e.path })),
      },
    },
  };
}

function validate(
  request: AdmissionRequest,
  onCreate: (obj: unknown) => FieldError[],
  onUpdate: (old: never, obj: unknown) => FieldError[],
  options: ValidationOptions,
  policy: (request: AdmissionRequest) => FieldError[] = () => [],
): AdmissionResponse {
  if (request.operation === 'DELETE' || request.operation === 'CONNECT') return allow(request.uid);
  // An old object that is not an object (never sent by an API server) has nothing to ratchet against.
  const update = request.operation === 'UPDATE' && isObject(request.oldObject);
  let errors: FieldError[];
  let refused: FieldError[];
  try {
    errors = update ? onUpdate(request.oldObject as never, request.object) : onCreate(request.object);
  } catch (err) {
    // Last resort: a validator that throws on some malformed input must still answer with a refusal
    // (a 500 here makes the API server refuse every VM write under failurePolicy: Fail).
    return denial(request, [
      fieldError('', 'malformed', `the object could not be validated: ${(err as Error).message}`),
    ]);
  }
  try {
    // The admission policy is not subject to the skip list: it is relaxed by the operator's flags.
    refused = policy(request);
  } catch (err) {
    // The policy reads fields the schema types; an object the schema refuses is refused for that.
    if (errors.length > 0) return denial(request, errors);
    return denial(request, [
      fieldError(
        '',
        'malformed',
        `the admission policy could not judge the object: ${(err as Error).message}`,
      ),
    ]);
  }
  if (errors.length === 0 && refused.length === 0) return allow(request.uid);
  const key = `${request.namespace ?? 'default'}/${request.name ?? ''}`;
  if (update && refused.length === 0 && options.skipUpdateValidationFor?.has(key)) {
    options.onSkippedValidation?.(request, errors);
    return allow(request.uid, [`validation skipped for ${key}: ${errors.map((e) => e.path).join(', ')}`]);
  }
  return denial(request, [...errors, ...refused]);
}

/** The policy's refusals for a VM request (only changed fields on UPDATE). */
function policyErrors(request: AdmissionRequest, p: PolicyOptions): FieldError[] {
  if (!isObject(request.object)) return [];
  const ctx = {
    policy: p.policy,
    runnerImage: p.runnerImage,
    operatorNamespace: p.operatorNamespace,
    namespace: request.namespace ?? 'default',
  };
  const vm = request.object as unknown as VirtualMachine;
  return request.operation === 'UPDATE' && isObject(request.oldObject)
    ? validateVirtualMachinePolicyUpdate(request.oldObject as unknown as VirtualMachine, vm, ctx)
    : validateVirtualMachinePolicy(vm, ctx);
}

/** VirtualMachine validation: the API's rules, then the operator's admission policy (default: the strictest). */
export function validateVirtualMachineHandler(
  options: ValidationOptions = {},
  policy: PolicyOptions = { policy: DEFAULT_ADMISSION_POLICY },
): AdmissionHandler {
  return (request) =>
    validate(request, validateVirtualMachine, validateVirtualMachineUpdate, options, (r) =>
      policyErrors(r, policy),
    );
}

export function validateVirtualMachineMigrationHandler(options: ValidationOptions = {}): AdmissionHandler {
  return (request) =>
    validate(request, validateVirtualMachineMigration, validateVirtualMachineMigrationUpdate, options);
}

/** Parses `--skip-update-validation-for`: `name` (namespace default) or `namespace/name`, comma separated. */
export function parseSkipList(value: string): Set<string> {
  const out = new Set<string>();
  if (!value.trim()) return out;
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (!item) throw new Error('--skip-update-validation-for: empty entry');
    out.add(item.includes('/') ? item : `default/${item}`);
  }
  return out;
}
