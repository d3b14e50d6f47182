import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import Ajv from 'ajv';
import { IP_POOL, NEONVM_KINDS, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION } from './kinds';
import { buildCustomResourceDefinition, crdFileName, renderCrdYaml } from './crd-manifest';
import { structuralViolations } from './structural';
import type { JsonSchema } from './schema-walk';

const generatedDir = join(__dirname, 'generated');

describe('generated CRDs', () => {
  it.each(NEONVM_KINDS.map((k) => [k.kind, k] as const))(
    'crds/generated for %s is up to date (run `npm run generate`)',
    (_kind, info) => {
      const committed = readFileSync(join(generatedDir, crdFileName(info)), 'utf8');
      expect(committed).toBe(renderCrdYaml(buildCustomResourceDefinition(info)));
    },
  );

  it.each(NEONVM_KINDS.map((k) => [k.kind, k] as const))('%s schema is structural', (_kind, info) => {
    const schema = buildCustomResourceDefinition(info).spec.versions[0].schema.openAPIV3Schema;
    expect(structuralViolations(schema)).toEqual([]);
  });

  it('the structural checker catches what the API server rejects', () => {
    expect(structuralViolations({ type: 'object', properties: { a: {} } })).toEqual([
      "<root>.a: 'type' must be set",
    ]);
    expect(structuralViolations({ type: 'object', additionalProperties: false })).toHaveLength(1);
    expect(structuralViolations({ anyOf: [{ const: 'a' }] } as JsonSchema)).not.toHaveLength(0);
    expect(structuralViolations({ 'x-kubernetes-int-or-string': true, type: 'string' })).toHaveLength(1);
  });

  it('every default validates against its own schema (the API server checks this)', () => {
    const ajv = new Ajv({ strict: false, validateFormats: false });
    const walk = (s: JsonSchema, path: string): void => {
      if (s.default !== undefined)
        expect({ path, ok: ajv.validate(s as object, s.default) }).toEqual({ path, ok: true });
      for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    for (const info of NEONVM_KINDS)
      walk(buildCustomResourceDefinition(info).spec.versions[0].schema.openAPIV3Schema, info.kind);
  });

  it('uses upstream names: singulars neonvm/neonvmm, no shortNames, status subresource', () => {
    const vm = buildCustomResourceDefinition(VIRTUAL_MACHINE);
    expect(vm.metadata.name).toBe('virtualmachines.vm.neon.tech');
    expect(vm.spec.names).toEqual({
      kind: 'VirtualMachine',
      listKind: 'VirtualMachineList',
      plural: 'virtualmachines',
      singular: 'neonvm',
    });
    expect(vm.spec.versions[0].subresources).toEqual({ status: {} });
    const vmm = buildCustomResourceDefinition(VIRTUAL_MACHINE_MIGRATION);
    expect(vmm.spec.names.singular).toBe('neonvmm');
    const pool = buildCustomResourceDefinition(IP_POOL);
    expect(pool.spec.names.singular).toBe('ippool');
    expect(pool.spec.versions[0].subresources).toBeUndefined();
  });

  it('has upstream printer columns, with Restarts reading .status.restartCount', () => {
    const cols =
      buildCustomResourceDefinition(VIRTUAL_MACHINE).spec.versions[0].additionalPrinterColumns ?? [];
    expect(cols.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Cpus',
      'Memory',
      'Pod',
      'ExtraIP',
      'Status',
      'Restarts',
      'Age',
    ]);
    expect(cols.filter((c) => c.priority === 1).map((c) => c.name)).toEqual([
      'Node',
      'Image',
      'CPUScalingMode',
      'TargetArchitecture',
    ]);
    expect(cols.find((c) => c.name === 'Restarts')?.jsonPath).toBe('.status.restartCount');
    const mcols =
      buildCustomResourceDefinition(VIRTUAL_MACHINE_MIGRATION).spec.versions[0].additionalPrinterColumns ??
      [];
    expect(mcols.map((c) => c.name)).toEqual([
      'VM',
      'Source',
      'SourceIP',
      'Target',
      'TargetIP',
      'Status',
      'Age',
    ]);
    expect(mcols.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['SourceIP', 'TargetIP']);
  });

  it('marks quantities and MilliCPU as int-or-string and defaults cpus/memorySlots', () => {
    const doc = parse(readFileSync(join(generatedDir, 'vm.neon.tech_virtualmachines.yaml'), 'utf8')) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: JsonSchema } }> };
    };
    const guest = doc.spec.versions[0].schema.openAPIV3Schema.properties!.spec.properties!.guest;
    expect(guest.properties!.memorySlotSize).toMatchObject({
      'x-kubernetes-int-or-string': true,
      default: '1Gi',
    });
    expect(guest.properties!.cpus.properties!.use).toMatchObject({ 'x-kubernetes-int-or-string': true });
    expect(guest.properties!.cpus.default).toEqual({ min: 1, max: 1, use: 1 });
    expect(guest.properties!.memorySlots.default).toEqual({ min: 1, max: 1, use: 1 });
  });
});
