import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { luaAvailable, runHealthScript, toLuaLiteral } from '../../test/lua';
import {
  HEALTH_CHECKS,
  VIRTUAL_MACHINE_HEALTH_LUA,
  VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA,
  argoCdConfigMapData,
  argoCdIgnoreDifferences,
  renderArgoCdConfigMapSnippet,
} from '.';

const vm = (status?: Record<string, unknown>) => ({
  apiVersion: 'vm.neon.tech/v1',
  kind: 'VirtualMachine',
  metadata: { name: 'example' },
  spec: { guest: { rootDisk: { image: 'x' } } },
  ...(status ? { status } : {}),
});
const migration = (status?: Record<string, unknown>) => ({
  apiVersion: 'vm.neon.tech/v1',
  kind: 'VirtualMachineMigration',
  metadata: { name: 'example' },
  spec: { vmName: 'example' },
  ...(status ? { status } : {}),
});
const degraded = (message: string) => [
  {
    type: 'Available',
    status: 'False',
    reason: 'Reconciling',
    message: 'pod gone',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  },
  {
    type: 'Degraded',
    status: 'True',
    reason: 'Reconciling',
    message,
    lastTransitionTime: '2026-01-01T00:00:00Z',
  },
];

test('toLuaLiteral escapes strings and drops nulls', () => {
  expect(toLuaLiteral({ a: 'x"\n\\', b: null, c: [1, true] })).toBe(
    '{["a"] = "x\\"\\n\\\\", ["c"] = {1, true}}',
  );
});

test('lua5.1 is installed (scripts/ci-apt-packages.txt)', () => {
  expect(luaAvailable()).toBe(true);
});

describe('VirtualMachine health (real Lua 5.1)', () => {
  test.each([
    ['no status yet', vm(), { status: 'Progressing', message: 'Waiting for the NeonVM operator' }],
    ['empty phase', vm({ phase: '' }), { status: 'Progressing', message: 'Waiting for the NeonVM operator' }],
    ['Pending', vm({ phase: 'Pending' }), { status: 'Progressing', message: 'Pending' }],
    [
      'Scaling with pod',
      vm({ phase: 'Scaling', podName: 'example-abcde' }),
      { status: 'Progressing', message: 'Scaling (pod example-abcde)' },
    ],
    ['PreMigrating', vm({ phase: 'PreMigrating' }), { status: 'Progressing', message: 'PreMigrating' }],
    ['Migrating', vm({ phase: 'Migrating' }), { status: 'Progressing', message: 'Migrating' }],
    [
      'Running on a node',
      vm({ phase: 'Running', node: 'node-1', restartCount: 0 }),
      { status: 'Healthy', message: 'Running on node node-1' },
    ],
    ['Running without node', vm({ phase: 'Running' }), { status: 'Healthy', message: 'Running' }],
    [
      'Succeeded',
      vm({ phase: 'Succeeded' }),
      { status: 'Healthy', message: 'The guest exited successfully' },
    ],
    [
      'Failed with a Degraded condition',
      vm({
        phase: 'Failed',
        conditions: degraded('Pod (example-abcde) for VirtualMachine (example) failed'),
      }),
      { status: 'Degraded', message: 'Pod (example-abcde) for VirtualMachine (example) failed' },
    ],
    [
      'Failed without conditions',
      vm({ phase: 'Failed' }),
      { status: 'Degraded', message: 'The VirtualMachine failed' },
    ],
  ])('%s', (_name, obj, expected) => {
    expect(runHealthScript(VIRTUAL_MACHINE_HEALTH_LUA, obj)).toEqual(expected);
  });
});

describe('VirtualMachineMigration health (real Lua 5.1)', () => {
  test.each([
    ['no status yet', migration(), { status: 'Progressing', message: 'Waiting for the NeonVM operator' }],
    ['Pending', migration({ phase: 'Pending' }), { status: 'Progressing', message: 'Pending' }],
    [
      'Running with RAM progress',
      migration({
        phase: 'Running',
        info: { status: 'active', ram: { transferred: 256, remaining: 768, total: 1024 } },
      }),
      { status: 'Progressing', message: 'Running: 25% of RAM transferred' },
    ],
    [
      'Succeeded',
      migration({ phase: 'Succeeded', targetNode: 'node-2' }),
      { status: 'Healthy', message: 'Migrated to node node-2' },
    ],
    ['Succeeded without node', migration({ phase: 'Succeeded' }), { status: 'Healthy', message: 'Migrated' }],
    [
      'Failed with condition',
      migration({ phase: 'Failed', conditions: degraded('target pod failed') }),
      { status: 'Degraded', message: 'target pod failed' },
    ],
    [
      'Failed with QEMU status',
      migration({ phase: 'Failed', info: { status: 'failed' } }),
      { status: 'Degraded', message: 'Migration failed' },
    ],
    ['Failed bare', migration({ phase: 'Failed' }), { status: 'Degraded', message: 'The migration failed' }],
  ])('%s', (_name, obj, expected) => {
    expect(runHealthScript(VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA, obj)).toEqual(expected);
  });
});

describe('argocd-cm snippet', () => {
  test('the committed YAML is the output of renderArgoCdConfigMapSnippet (regenerate: neonvm synth --argocd-cm > constructs/argocd/argocd-cm-snippet.yaml)', () => {
    const file = readFileSync(join(__dirname, 'argocd-cm-snippet.yaml'), 'utf8');
    expect(file).toBe(renderArgoCdConfigMapSnippet());
  });

  test('the YAML carries exactly the scripts the tests run', () => {
    const data = (parse(renderArgoCdConfigMapSnippet()) as { data: Record<string, string> }).data;
    expect(data).toEqual(argoCdConfigMapData());
    expect(data['resource.customizations.health.vm.neon.tech_VirtualMachine']).toBe(
      VIRTUAL_MACHINE_HEALTH_LUA,
    );
    expect(data['resource.customizations.health.vm.neon.tech_VirtualMachineMigration']).toBe(
      VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA,
    );
    expect(Object.keys(HEALTH_CHECKS)).toHaveLength(2);
  });
});

test('ignoreDifferences: autoscaler-owned fields and the operator-patched caBundle', () => {
  expect(argoCdIgnoreDifferences()).toEqual([
    {
      group: 'vm.neon.tech',
      kind: 'VirtualMachine',
      jsonPointers: ['/spec/guest/cpus/use', '/spec/guest/memorySlots/use', '/spec/targetRevision'],
    },
    {
      group: 'admissionregistration.k8s.io',
      kind: 'MutatingWebhookConfiguration',
      jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
    },
    {
      group: 'admissionregistration.k8s.io',
      kind: 'ValidatingWebhookConfiguration',
      jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
    },
  ]);
  expect(argoCdIgnoreDifferences({ webhookCaBundle: false })).toHaveLength(1);
});
