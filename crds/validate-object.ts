/** Dispatch by kind: validate any NeonVM object read from a file or an admission request. */
import { fieldError, type FieldError } from './field-error';
import { validateVirtualMachine } from './validation/virtual-machine';
import { validateIpPool, validateVirtualMachineMigration } from './validation/migration';
import { API_VERSION } from './kinds';

export function validateObject(obj: unknown): FieldError[] {
  if (typeof obj !== 'object' || obj === null) return [fieldError('', 'type', 'must be an object')];
  const o = obj as Record<string, unknown>;
  if (o.apiVersion !== API_VERSION)
    return [fieldError('apiVersion', 'enum', `must be "${API_VERSION}"`, o.apiVersion)];
  switch (o.kind) {
    case 'VirtualMachine':
      return validateVirtualMachine(o);
    case 'VirtualMachineMigration':
      return validateVirtualMachineMigration(o);
    case 'IPPool':
      return validateIpPool(o);
    default:
      return [
        fieldError(
          'kind',
          'enum',
          'must be one of: "VirtualMachine", "VirtualMachineMigration", "IPPool"',
          o.kind,
        ),
      ];
  }
}
