import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { luaAvailable, runHealthScript, toLuaLiteral } from './testing/lua';
import {
  APPLICATION_CASES,
  VIRTUAL_MACHINE_CASES,
  VIRTUAL_MACHINE_MIGRATION_CASES,
} from './testing/health-cases';
import {
  APPLICATION_HEALTH_LUA,
  ARGOCD_RESOURCES_FINALIZER,
  HEALTH_CHECKS,
  VIRTUAL_MACHINE_HEALTH_LUA,
  VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA,
  argoCdApplication,
  argoCdConfigMap,
  argoCdConfigMapData,
  argoCdIgnoreDifferences,
  renderArgoCdConfigMapSnippet,
} from '.';

test('toLuaLiteral escapes strings and drops nulls', () => {
  expect(toLuaLiteral({ a: 'x"\n\\', b: null, c: [1, true] })).toBe(
    '{["a"] = "x\\"\\n\\\\", ["c"] = {1, true}}',
  );
});

test('lua5.1 is installed (scripts/ci-apt-packages.txt)', () => {
  expect(luaAvailable()).toBe(true);
});

const run = (script: string, obj: unknown) => {
  const r = runHealthScript(script, obj);
  return { status: r.status, message: r.message ?? '' };
};

describe.each([
  ['VirtualMachine', VIRTUAL_MACHINE_HEALTH_LUA, VIRTUAL_MACHINE_CASES],
  ['VirtualMachineMigration', VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA, VIRTUAL_MACHINE_MIGRATION_CASES],
  ['Application (app-of-apps)', APPLICATION_HEALTH_LUA, APPLICATION_CASES],
] as const)('%s health (real Lua 5.1)', (_kind, script, cases) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(run(script, c.object)).toEqual(c.expected);
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

test('ignoreDifferences: what the autoscaler wrote (by field manager) and the operator-patched caBundle', () => {
  expect(argoCdIgnoreDifferences()).toEqual([
    { group: 'vm.neon.tech', kind: 'VirtualMachine', managedFieldsManagers: ['autoscaler-agent'] },
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

describe('argocd-cm', () => {
  test('system-wide ignoreDifferences trust the autoscaler field manager for VirtualMachines', () => {
    const data = argoCdConfigMapData();
    expect(parse(data['resource.customizations.ignoreDifferences.vm.neon.tech_VirtualMachine'])).toEqual({
      managedFieldsManagers: ['autoscaler-agent'],
    });
    expect(data['resource.customizations.health.argoproj.io_Application']).toBeUndefined();
  });

  test('appOfApps adds the Application health check; argoCdConfigMap wraps the data', () => {
    const cm = argoCdConfigMap({ appOfApps: true, namespace: 'gitops' });
    expect(cm.metadata).toMatchObject({ name: 'argocd-cm', namespace: 'gitops' });
    expect(
      (cm.data as Record<string, string>)['resource.customizations.health.argoproj.io_Application'],
    ).toBe(APPLICATION_HEALTH_LUA);
  });
});

describe('argoCdApplication', () => {
  const base = { name: 'vms', repoURL: 'git://example/platform.git', path: 'vms' };

  test('defaults: automated prune + self-heal, SSA, our ignoreDifferences, no wave, no finalizer', () => {
    const app = argoCdApplication(base);
    expect(app.metadata).toEqual({ name: 'vms', namespace: 'argocd' });
    expect(app.spec.syncPolicy).toEqual({
      automated: { prune: true, selfHeal: true },
      syncOptions: ['ServerSideApply=true', 'RespectIgnoreDifferences=true'],
    });
    expect(app.spec.ignoreDifferences).toEqual(argoCdIgnoreDifferences());
  });

  test('app-of-apps child: wave annotation, cascade delete finalizer, CreateNamespace', () => {
    const app = argoCdApplication({ ...base, syncWave: -1, cascadeDelete: true, createNamespace: true });
    expect(app.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-1' });
    expect(app.metadata.finalizers).toEqual([ARGOCD_RESOURCES_FINALIZER]);
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
  });

  test('an app of VMs synced before the CRDs exist skips the dry run of the missing kinds', () => {
    const app = argoCdApplication({ ...base, skipDryRunOnMissingResource: true, retryLimit: 5 });
    expect(app.spec.syncPolicy.syncOptions).toEqual([
      'ServerSideApply=true',
      'RespectIgnoreDifferences=true',
      'SkipDryRunOnMissingResource=true',
    ]);
    expect(app.spec.syncPolicy.retry?.limit).toBe(5);
  });
});
