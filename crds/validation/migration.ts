/** VirtualMachineMigration and IPPool validation. */
import { withSchemaFallback } from './schema-fallback';
import { IP_POOL, VIRTUAL_MACHINE_MIGRATION } from '../kinds';
import { canonicalizeVirtualMachineMigration, defaultVirtualMachineMigration } from '../defaults';
import { fieldError, type FieldError } from '../field-error';
import { isQuantity, parseQuantity, quantityValue } from '../quantity';
import type { VirtualMachineMigration } from '../schema/virtual-machine-migration';
import type { IpPool } from '../schema/ip-pool';
import { hasErrorAt, validateAgainstSchema } from './schema-validator';
import { isDeletionOnlyUpdate, ratchetUpdateErrors } from './ratchet';
import { deepEqual, isDns1123Subdomain, parseIpv4Cidr } from './util';

export function validateVirtualMachineMigration(input: unknown): FieldError[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return [fieldError('', 'type', 'must be an object')];
  const raw = input as VirtualMachineMigration;
  if (!raw.spec) return [fieldError('spec', 'required', 'Required value')];
  return withSchemaFallback(VIRTUAL_MACHINE_MIGRATION, raw, () => {
    const m = canonicalizeVirtualMachineMigration(defaultVirtualMachineMigration(raw));
    const schemaErrors = validateAgainstSchema(VIRTUAL_MACHINE_MIGRATION, m);
    const errors = [...schemaErrors];
    if (!hasErrorAt(schemaErrors, 'spec.vmName') && !isDns1123Subdomain(m.spec.vmName)) {
      errors.push(
        fieldError(
          'spec.vmName',
          'dns1123-subdomain',
          'must be the name of a VirtualMachine (a DNS-1123 subdomain)',
          m.spec.vmName,
        ),
      );
    }
    const bw = m.spec.maxBandwidth;
    if (
      bw !== undefined &&
      !hasErrorAt(schemaErrors, 'spec.maxBandwidth') &&
      (!isQuantity(bw) || quantityValue(parseQuantity(bw)) <= 0n)
    ) {
      errors.push(
        fieldError('spec.maxBandwidth', 'positive', 'must be a positive number of bytes per second', bw),
      );
    }
    if (m.spec.allowPostCopy && m.spec.incremental === false) {
      // Post-copy moves RAM only; a full block migration (incremental=false) cannot be post-copied.
      errors.push(
        fieldError(
          'spec.allowPostCopy',
          'postcopy-needs-incremental',
          'post-copy requires incremental: true',
          m.spec.allowPostCopy,
        ),
      );
    }
    return errors;
  });
}

/** A migration's spec is fixed once created (upstream: "updating migration spec is not allowed"). */
export function validateVirtualMachineMigrationUpdate(
  oldInput: VirtualMachineMigration,
  newInput: unknown,
): FieldError[] {
  if (isDeletionOnlyUpdate(oldInput, newInput)) return [];
  const errors = ratchetUpdateErrors(
    validateVirtualMachineMigration(newInput),
    validateVirtualMachineMigration(oldInput),
    oldInput,
    newInput,
  );
  if (typeof newInput !== 'object' || newInput === null || !(newInput as VirtualMachineMigration).spec)
    return errors;
  const before = defaultVirtualMachineMigration(oldInput).spec;
  const after = defaultVirtualMachineMigration(newInput as VirtualMachineMigration).spec;
  if (!deepEqual(before, after))
    errors.push(fieldError('spec', 'immutable', 'updating migration spec is not allowed'));
  return errors;
}

export function validateIpPool(input: unknown): FieldError[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return [fieldError('', 'type', 'must be an object')];
  const pool = input as IpPool;
  const schemaErrors = validateAgainstSchema(IP_POOL, pool);
  const errors = [...schemaErrors];
  // Semantic checks need a well-typed spec; schema errors anywhere in it are reported alone.
  if (schemaErrors.some((e) => e.path === 'spec' || e.path.startsWith('spec.') || e.path.startsWith('spec[')))
    return errors;
  const cidr = parseIpv4Cidr(pool.spec.range);
  if (!cidr) {
    errors.push(
      fieldError('spec.range', 'cidr', 'must be an IPv4 CIDR such as 10.100.0.0/16', pool.spec.range),
    );
    return errors;
  }
  for (const [key, alloc] of Object.entries(pool.spec.allocations)) {
    const path = `spec.allocations[${key}]`;
    if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= cidr.size) {
      errors.push(
        fieldError(
          path,
          'offset',
          `keys are decimal offsets from the start of the range (0..${cidr.size - 1})`,
          key,
        ),
      );
    }
    if (!alloc.id) errors.push(fieldError(`${path}.id`, 'required', 'Required value'));
  }
  return errors;
}
