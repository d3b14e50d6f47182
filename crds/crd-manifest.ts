/**
 * Builds the CustomResourceDefinition objects from the schemas, with upstream's names and printer
 * columns (the `Restarts` column fixed to read `.status.restartCount`). `scripts/generate-crds.ts`
 * writes them to `crds/generated/`; a test fails when the committed files are stale.
 */
import { stringify } from 'yaml';
import {
  GROUP,
  IP_POOL,
  NEONVM_KINDS,
  VERSION,
  VIRTUAL_MACHINE,
  VIRTUAL_MACHINE_MIGRATION,
  type KindInfo,
} from './kinds';
import { kindJsonSchema } from './defaults';
import type { JsonSchema } from './schema-walk';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly priority?: number;
  readonly description?: string;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchema };
      subresources?: { status: Record<string, never> };
      additionalPrinterColumns?: PrinterColumn[];
    }>;
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const PRINTER_COLUMNS: ReadonlyMap<KindInfo, readonly PrinterColumn[]> = new Map([
  [
    VIRTUAL_MACHINE,
    [
      { name: 'Cpus', type: 'string', jsonPath: '.status.cpus' },
      { name: 'Memory', type: 'string', jsonPath: '.status.memorySize' },
      { name: 'Pod', type: 'string', jsonPath: '.status.podName' },
      { name: 'ExtraIP', type: 'string', jsonPath: '.status.extraNetIP' },
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      // upstream points this column at `.status.restarts`, a field that does not exist.
      { name: 'Restarts', type: 'integer', jsonPath: '.status.restartCount' },
      AGE,
      { name: 'Node', type: 'string', jsonPath: '.status.node', priority: 1 },
      { name: 'Image', type: 'string', jsonPath: '.spec.guest.rootDisk.image', priority: 1 },
      { name: 'CPUScalingMode', type: 'string', jsonPath: '.spec.cpuScalingMode', priority: 1 },
      { name: 'TargetArchitecture', type: 'string', jsonPath: '.spec.targetArchitecture', priority: 1 },
    ],
  ],
  [
    VIRTUAL_MACHINE_MIGRATION,
    [
      { name: 'VM', type: 'string', jsonPath: '.spec.vmName' },
      { name: 'Source', type: 'string', jsonPath: '.status.sourcePodName' },
      { name: 'SourceIP', type: 'string', jsonPath: '.status.sourcePodIP', priority: 1 },
      { name: 'Target', type: 'string', jsonPath: '.status.targetPodName' },
      { name: 'TargetIP', type: 'string', jsonPath: '.status.targetPodIP', priority: 1 },
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      AGE,
    ],
  ],
  [IP_POOL, []],
]);

/** The CRD form of a kind schema: descriptions for the envelope as controller-gen writes them. */
function openApiSchema(info: KindInfo): JsonSchema {
  const schema = kindJsonSchema(info);
  const props = { ...(schema.properties ?? {}) };
  props.apiVersion = {
    type: 'string',
    description:
      'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  };
  props.kind = {
    type: 'string',
    description:
      'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.',
  };
  props.metadata = { type: 'object' };
  return { ...schema, type: 'object', properties: props, required: ['spec'] };
}

export function buildCustomResourceDefinition(info: KindInfo): CustomResourceDefinition {
  const columns = PRINTER_COLUMNS.get(info) ?? [];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: info.kind, listKind: info.listKind, plural: info.plural, singular: info.singular },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openApiSchema(info) },
          ...(info.hasStatus ? { subresources: { status: {} } } : {}),
          ...(columns.length ? { additionalPrinterColumns: [...columns] } : {}),
        },
      ],
    },
  };
}

export function buildCustomResourceDefinitions(): CustomResourceDefinition[] {
  return NEONVM_KINDS.map(buildCustomResourceDefinition);
}

/** File name in `crds/generated/`, as controller-gen names them. */
export function crdFileName(info: KindInfo): string {
  return `${GROUP}_${info.plural}.yaml`;
}

export function renderCrdYaml(crd: CustomResourceDefinition): string {
  return `---\n${stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
