/**
 * VirtualMachine validation: one function for create and one for update, used by the admission
 * webhook, the constructs (synth time), the Pulumi components (preview) and the CLI. Upstream's rules
 * (§2.2/§2.3 of the reference) plus the holes it leaves open, closed here (marked FIX).
 */
import { withSchemaFallback } from './schema-fallback';
import { VIRTUAL_MACHINE } from '../kinds';
import { canonicalizeVirtualMachine, defaultVirtualMachine } from '../defaults';
import { fieldError, type FieldError } from '../field-error';
import { parseGoDuration } from '../duration';
import { parseMilliCpu } from '../millicpu';
import { parseQuantity, quantityValue, isQuantity } from '../quantity';
import { getPath, VIRTUAL_MACHINE_FIELD_POLICIES } from '../field-policy';
import type { VirtualMachine } from '../schema/virtual-machine';
import { isDeletionOnlyUpdate, ratchetUpdateErrors } from './ratchet';
import { hasErrorAt, validateAgainstSchema } from './schema-validator';
import { deepEqual, isDns1123Label, isDns1123Subdomain, isEnvVarName } from './util';

/** virtio-mem block size: memory slots must be a whole number of blocks. */
export const MEMORY_BLOCK_BYTES = 8n * 1024n * 1024n;
/** Disk names the runner uses for its own volumes (upstream's reserved list). */
export const RESERVED_DISK_NAMES = [
  'virtualmachineimages',
  'rootdisk',
  'runtime',
  'swapdisk',
  'sysfscgroup',
  'ssh-privatekey',
  'ssh-publickey',
  'ssh-authorized-keys',
  'tls',
  // FIX: our runner pod's own volumes; a disk of that name would make the pod invalid.
  'runner-token',
  'migration-tls',
] as const;
export const MAX_DISK_NAME_LENGTH = 32;
/** The runner pod is named `<vm>-<5 chars>` and labelled with the VM name (a label value: ≤ 63). */
export const MAX_VM_NAME_LENGTH = 63;

function milli(value: unknown): number | undefined {
  try {
    return parseMilliCpu(value);
  } catch {
    return undefined;
  }
}

function bytes(value: unknown): bigint | undefined {
  if (!isQuantity(value)) return undefined;
  return quantityValue(parseQuantity(value));
}

function checkName(vm: VirtualMachine, errors: FieldError[]): void {
  const name = vm.metadata?.name;
  if (name === undefined) return; // generateName is resolved by the API server
  if (!isDns1123Subdomain(name) || name.length > MAX_VM_NAME_LENGTH) {
    errors.push(
      fieldError(
        'metadata.name',
        'vm-name',
        `must be a lowercase RFC 1123 subdomain of at most ${MAX_VM_NAME_LENGTH} characters (it names and labels the runner pod)`,
        name,
      ),
    );
  }
}

function checkCpus(vm: VirtualMachine, schemaErrors: FieldError[], errors: FieldError[]): void {
  const cpus = vm.spec.guest.cpus;
  if (!cpus || hasErrorAt(schemaErrors, 'spec.guest.cpus')) return;
  const values: Record<'min' | 'max' | 'use', number | undefined> = {
    min: undefined,
    max: undefined,
    use: undefined,
  };
  for (const key of ['min', 'max', 'use'] as const) {
    const v = milli(cpus[key]);
    if (v === undefined)
      errors.push(
        fieldError(
          `spec.guest.cpus.${key}`,
          'quantity',
          'must be a CPU amount such as 1, 0.25, "1.5" or "250m"',
          cpus[key],
        ),
      );
    values[key] = v;
  }
  const { min, max, use } = values;
  // FIX: upstream accepts min = 0 (an all-zero VM passes its webhook and cannot boot).
  if (min !== undefined && min < 1)
    errors.push(fieldError('spec.guest.cpus.min', 'positive', 'must be greater than 0', cpus.min));
  if (min !== undefined && max !== undefined && min > max) {
    errors.push(
      fieldError(
        'spec.guest.cpus.max',
        'min-le-max',
        `must be greater than or equal to .spec.guest.cpus.min (${cpus.min})`,
        cpus.max,
      ),
    );
  }
  if (use !== undefined && min !== undefined && use < min) {
    errors.push(
      fieldError(
        'spec.guest.cpus.use',
        'use-within-range',
        `should be greater than or equal to the .spec.guest.cpus.min (${cpus.min})`,
        cpus.use,
      ),
    );
  }
  if (use !== undefined && max !== undefined && use > max) {
    errors.push(
      fieldError(
        'spec.guest.cpus.use',
        'use-within-range',
        `should be less than or equal to the .spec.guest.cpus.max (${cpus.max})`,
        cpus.use,
      ),
    );
  }
}

function checkMemory(vm: VirtualMachine, schemaErrors: FieldError[], errors: FieldError[]): void {
  const guest = vm.spec.guest;
  if (guest.memorySlotSize !== undefined && !hasErrorAt(schemaErrors, 'spec.guest.memorySlotSize')) {
    const size = bytes(guest.memorySlotSize);
    if (size === undefined || size <= 0n) {
      errors.push(
        fieldError(
          'spec.guest.memorySlotSize',
          'positive',
          'must be a positive memory quantity',
          guest.memorySlotSize,
        ),
      );
    } else if (size % MEMORY_BLOCK_BYTES !== 0n) {
      errors.push(
        fieldError(
          'spec.guest.memorySlotSize',
          'multiple-of-8Mi',
          'memorySlotSize invalid for use with virtio-mem: must be a multiple of 8Mi',
          guest.memorySlotSize,
        ),
      );
    }
  }
  const slots = guest.memorySlots;
  if (!slots || hasErrorAt(schemaErrors, 'spec.guest.memorySlots')) return;
  if (slots.min > slots.max) {
    errors.push(
      fieldError(
        'spec.guest.memorySlots.max',
        'min-le-max',
        `must be greater than or equal to .spec.guest.memorySlots.min (${slots.min})`,
        slots.max,
      ),
    );
  }
  if (slots.use < slots.min) {
    errors.push(
      fieldError(
        'spec.guest.memorySlots.use',
        'use-within-range',
        `should be greater than or equal to the .spec.guest.memorySlots.min (${slots.min})`,
        slots.use,
      ),
    );
  }
  if (slots.use > slots.max) {
    errors.push(
      fieldError(
        'spec.guest.memorySlots.use',
        'use-within-range',
        `should be less than or equal to the .spec.guest.memorySlots.max (${slots.max})`,
        slots.use,
      ),
    );
  }
}

function checkPositiveQuantity(
  path: string,
  value: unknown,
  errors: FieldError[],
  schemaErrors: FieldError[],
): void {
  if (value === undefined || hasErrorAt(schemaErrors, path)) return;
  const b = bytes(value);
  if (b === undefined || b <= 0n)
    errors.push(fieldError(path, 'positive', 'must be a positive quantity', value));
}

function checkPorts(vm: VirtualMachine, schemaErrors: FieldError[], errors: FieldError[]): void {
  const ports = vm.spec.guest.ports ?? [];
  if (hasErrorAt(schemaErrors, 'spec.guest.ports')) return;
  const runnerPorts = new Map<number, string>([
    [vm.spec.qmp ?? 20183, 'spec.qmp'],
    [vm.spec.qmpManual ?? 20184, 'spec.qmpManual'],
    [vm.spec.runnerPort ?? 25183, 'spec.runnerPort'],
  ]);
  // FIX: upstream lets the runner's own ports collide, which produces an invalid pod.
  if (runnerPorts.size < 3) {
    errors.push(
      fieldError(
        'spec.runnerPort',
        'unique',
        'spec.qmp, spec.qmpManual and spec.runnerPort must be different ports',
        vm.spec.runnerPort,
      ),
    );
  }
  const seenPorts = new Map<string, number>();
  const seenNames = new Map<string, number>();
  ports.forEach((p, i) => {
    const base = `spec.guest.ports[${i}]`;
    if (p.name === 'qmp')
      errors.push(
        fieldError(
          `${base}.name`,
          'reserved-name',
          "'qmp' is reserved name for .spec.guest.ports[].name",
          p.name,
        ),
      );
    if (p.name !== undefined && p.name !== 'qmp') {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name)) {
        errors.push(
          fieldError(
            `${base}.name`,
            'port-name',
            'must be an IANA service name (at most 15 lowercase letters, digits and dashes, with a letter)',
            p.name,
          ),
        );
      }
      const prev = seenNames.get(p.name);
      if (prev !== undefined)
        errors.push(
          fieldError(`${base}.name`, 'unique', `duplicates spec.guest.ports[${prev}].name`, p.name),
        );
      else seenNames.set(p.name, i);
    }
    const protocol = p.protocol ?? 'TCP';
    if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) {
      errors.push(fieldError(`${base}.protocol`, 'enum', 'must be one of: "TCP", "UDP", "SCTP"', protocol));
    }
    const key = `${p.port}/${protocol}`;
    const prev = seenPorts.get(key);
    if (prev !== undefined)
      errors.push(
        fieldError(`${base}.port`, 'unique', `duplicates spec.guest.ports[${prev}] (${key})`, p.port),
      );
    else seenPorts.set(key, i);
    const taken = runnerPorts.get(p.port);
    if (taken)
      errors.push(
        fieldError(`${base}.port`, 'reserved-port', `collides with ${taken}, which the runner uses`, p.port),
      );
  });
}

function checkEnv(vm: VirtualMachine, errors: FieldError[]): void {
  const seen = new Map<string, number>();
  (vm.spec.guest.env ?? []).forEach((e, i) => {
    if (typeof e.name !== 'string') return;
    // FIX: the guest exports these with `export NAME=...`; an invalid name broke the guest script.
    if (!isEnvVarName(e.name))
      errors.push(
        fieldError(
          `spec.guest.env[${i}].name`,
          'env-name',
          'must be a valid shell variable name ([A-Za-z_][A-Za-z0-9_]*)',
          e.name,
        ),
      );
    const prev = seen.get(e.name);
    if (prev !== undefined)
      errors.push(
        fieldError(`spec.guest.env[${i}].name`, 'unique', `duplicates spec.guest.env[${prev}].name`, e.name),
      );
    else seen.set(e.name, i);
  });
}

const DISK_SOURCES = ['emptyDisk', 'configMap', 'secret', 'tmpfs'] as const;

function checkDisks(vm: VirtualMachine, schemaErrors: FieldError[], errors: FieldError[]): void {
  const names = new Map<string, number>();
  const mounts = new Map<string, number>();
  (vm.spec.disks ?? []).forEach((d, i) => {
    const base = `spec.disks[${i}]`;
    if (typeof d.name === 'string') {
      if ((RESERVED_DISK_NAMES as readonly string[]).includes(d.name)) {
        errors.push(
          fieldError(
            `${base}.name`,
            'reserved-name',
            `'${d.name}' is reserved for .spec.disks[].name`,
            d.name,
          ),
        );
      } else if (d.name.length > MAX_DISK_NAME_LENGTH) {
        errors.push(
          fieldError(
            `${base}.name`,
            'max-length',
            `must be no longer than ${MAX_DISK_NAME_LENGTH} characters`,
            d.name,
          ),
        );
      } else if (!isDns1123Label(d.name)) {
        errors.push(
          fieldError(
            `${base}.name`,
            'dns1123-label',
            "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            d.name,
          ),
        );
      }
      const prev = names.get(d.name);
      if (prev !== undefined)
        errors.push(fieldError(`${base}.name`, 'unique', `duplicates spec.disks[${prev}].name`, d.name));
      else names.set(d.name, i);
    }
    if (typeof d.mountPath === 'string') {
      if (!d.mountPath.startsWith('/'))
        errors.push(
          fieldError(`${base}.mountPath`, 'absolute-path', 'must be an absolute path', d.mountPath),
        );
      else if (d.mountPath.split('/').includes('..'))
        errors.push(fieldError(`${base}.mountPath`, 'no-dotdot', "must not contain '..'", d.mountPath));
      const norm = d.mountPath.replace(/\/+$/, '') || '/';
      const prev = mounts.get(norm);
      if (prev !== undefined)
        errors.push(
          fieldError(`${base}.mountPath`, 'unique', `duplicates spec.disks[${prev}].mountPath`, d.mountPath),
        );
      else mounts.set(norm, i);
    }
    // FIX: upstream declares "exactly one source" but never enforces it.
    const sources = DISK_SOURCES.filter((s) => d[s] !== undefined);
    if (sources.length !== 1) {
      errors.push(
        fieldError(
          base,
          'one-source',
          sources.length === 0
            ? `must set exactly one of ${DISK_SOURCES.join(', ')}`
            : `sets ${sources.join(' and ')}; exactly one source is allowed`,
        ),
      );
    }
    if (d.watch && !(d.configMap || d.secret)) {
      errors.push(
        fieldError(
          `${base}.watch`,
          'watch-source',
          'watch is only supported for configMap and secret disks',
          d.watch,
        ),
      );
    }
    checkPositiveQuantity(`${base}.emptyDisk.size`, d.emptyDisk?.size, errors, schemaErrors);
    checkPositiveQuantity(`${base}.tmpfs.size`, d.tmpfs?.size, errors, schemaErrors);
    if (d.configMap && !d.configMap.name)
      errors.push(fieldError(`${base}.configMap.name`, 'required', 'Required value'));
    if (d.secret && !d.secret.secretName)
      errors.push(fieldError(`${base}.secret.secretName`, 'required', 'Required value'));
  });
}

function checkMisc(vm: VirtualMachine, schemaErrors: FieldError[], errors: FieldError[]): void {
  const spec = vm.spec;
  checkPositiveQuantity('spec.guest.rootDisk.size', spec.guest.rootDisk?.size, errors, schemaErrors);
  checkPositiveQuantity('spec.guest.settings.swap', spec.guest.settings?.swap, errors, schemaErrors);
  const net = spec.extraNetwork?.multusNetwork;
  if (net !== undefined) {
    const parts = net.split('/');
    if (parts.length > 2 || !parts.every((p) => isDns1123Subdomain(p))) {
      errors.push(
        fieldError(
          'spec.extraNetwork.multusNetwork',
          'object-reference',
          'must be <namespace>/<name> or <name> of a NetworkAttachmentDefinition',
          net,
        ),
      );
    }
  }
  const iface = spec.extraNetwork?.interface;
  if (iface !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) {
    errors.push(
      fieldError(
        'spec.extraNetwork.interface',
        'interface-name',
        'must be a Linux interface name (1-15 characters)',
        iface,
      ),
    );
  }
  const tls = spec.tls;
  // A mountPath of another type is reported by the schema; these rules judge strings only.
  if (tls && (tls.mountPath === undefined || typeof tls.mountPath === 'string')) {
    if (!tls.certificateIssuer)
      errors.push(fieldError('spec.tls.certificateIssuer', 'required', 'Required value'));
    if (!tls.serverName) errors.push(fieldError('spec.tls.serverName', 'required', 'Required value'));
    // FIX: upstream takes any string; the runner writes tls.key below this guest path.
    if (tls.mountPath !== undefined && !tls.mountPath.startsWith('/'))
      errors.push(
        fieldError('spec.tls.mountPath', 'absolute-path', 'must be an absolute path', tls.mountPath),
      );
    else if (tls.mountPath !== undefined && tls.mountPath.split('/').includes('..'))
      errors.push(fieldError('spec.tls.mountPath', 'no-dotdot', "must not contain '..'", tls.mountPath));
    else if (tls.mountPath !== undefined && /^\/*$/.test(tls.mountPath))
      errors.push(
        fieldError(
          'spec.tls.mountPath',
          'not-root',
          'must be a directory below /, not / itself',
          tls.mountPath,
        ),
      );
    for (const key of ['expireAfter', 'renewBefore'] as const) {
      const v = tls[key];
      if (v !== undefined && parseGoDuration(v) === undefined) {
        errors.push(
          fieldError(`spec.tls.${key}`, 'duration', 'must be a Go duration such as 720h or 90m', v),
        );
      }
    }
    const expire = tls.expireAfter === undefined ? undefined : parseGoDuration(tls.expireAfter);
    const renew = tls.renewBefore === undefined ? undefined : parseGoDuration(tls.renewBefore);
    if (expire !== undefined && renew !== undefined && renew >= expire)
      errors.push(
        fieldError(
          'spec.tls.renewBefore',
          'less-than-expireAfter',
          `must be shorter than spec.tls.expireAfter (${tls.expireAfter}), or the certificate is always due`,
          tls.renewBefore,
        ),
      );
  }
  if (spec.guest.memhpAutoMovableRatio !== undefined && !/^[0-9]+$/.test(spec.guest.memhpAutoMovableRatio)) {
    errors.push(
      fieldError(
        'spec.guest.memhpAutoMovableRatio',
        'integer-string',
        'must be a non-negative integer, as a string',
        spec.guest.memhpAutoMovableRatio,
      ),
    );
  }
}

/**
 * Validates a VirtualMachine for creation. Works on a defaulted, canonicalised copy — exactly what
 * our mutating webhook hands to the API server — so `cpus.use: 0.25` is valid input, as upstream.
 */
export function validateVirtualMachine(input: unknown): FieldError[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [fieldError('', 'type', 'must be an object')];
  }
  const raw = input as VirtualMachine;
  if (raw.spec === undefined || raw.spec === null) return [fieldError('spec', 'required', 'Required value')];
  return withSchemaFallback(VIRTUAL_MACHINE, raw, () => {
    const vm = canonicalizeVirtualMachine(defaultVirtualMachine(raw));
    const schemaErrors = validateAgainstSchema(VIRTUAL_MACHINE, vm);
    const errors: FieldError[] = [...schemaErrors];
    if (typeof vm.spec !== 'object' || typeof vm.spec.guest !== 'object' || vm.spec.guest === null)
      return errors;
    checkName(vm, errors);
    checkCpus(vm, schemaErrors, errors);
    checkMemory(vm, schemaErrors, errors);
    if (!hasErrorAt(schemaErrors, 'spec.guest.env')) checkEnv(vm, errors);
    checkPorts(vm, schemaErrors, errors);
    if (!hasErrorAt(schemaErrors, 'spec.disks')) checkDisks(vm, schemaErrors, errors);
    checkMisc(vm, schemaErrors, errors);
    return errors;
  });
}

/**
 * Validates an update: the new object must be valid on its own, immutable fields unchanged and
 * set-once fields only go from unset to a value.
 */
export function validateVirtualMachineUpdate(oldInput: VirtualMachine, newInput: unknown): FieldError[] {
  // Removing a finalizer from an object being deleted is never blocked.
  if (isDeletionOnlyUpdate(oldInput, newInput)) return [];
  const errors = ratchetUpdateErrors(
    validateVirtualMachine(newInput),
    validateVirtualMachine(oldInput),
    oldInput,
    newInput,
  );
  if (typeof newInput !== 'object' || newInput === null || !(newInput as VirtualMachine).spec) return errors;
  const oldVm = defaultVirtualMachine(oldInput);
  const newVm = defaultVirtualMachine(newInput as VirtualMachine);
  for (const policy of VIRTUAL_MACHINE_FIELD_POLICIES) {
    const before = getPath(oldVm, policy.path);
    const after = getPath(newVm, policy.path);
    if (policy.kind === 'immutable' && !deepEqual(before, after)) {
      errors.push(
        fieldError(policy.path, 'immutable', `${policy.path} is immutable (${policy.reason})`, after),
      );
    }
    if (policy.kind === 'set-once' && before !== undefined && before !== after) {
      errors.push(
        fieldError(
          policy.path,
          'set-once',
          `${policy.path} is not allowed to be changed once it's set`,
          after,
        ),
      );
    }
  }
  return errors;
}
