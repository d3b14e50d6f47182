import { Testing } from 'cdk8s';
import {
  NeonVmInstall,
  buildInstallBundle,
  installBundleObjects,
  managerRules,
  operatorPermissions,
  type KubeObject,
} from '.';

const base = {
  image: 'ghcr.io/neonvm-ts/operator:0.1.0',
  runnerImage: 'ghcr.io/neonvm-ts/runner:0.1.0',
  devicePluginImage: 'ghcr.io/neonvm-ts/device-plugin:0.1.0',
};

function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''}`);
  return o;
}

// Bodies of plain objects are untyped JSON here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (o: KubeObject): any => o;

describe('buildInstallBundle', () => {
  const bundle = buildInstallBundle(base);
  const all = [...bundle.crds, ...bundle.objects];

  test('CRDs come from crds/ and are listed first', () => {
    expect(bundle.crds.map((c) => c.metadata.name)).toEqual([
      'virtualmachines.vm.neon.tech',
      'virtualmachinemigrations.vm.neon.tech',
      'ippools.vm.neon.tech',
    ]);
    expect(bundle.objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'neonvm-system' } });
  });

  test('operator Deployment: image, args, env contract, ports, webhook cert volume', () => {
    const d = body(find(all, 'Deployment', 'neonvm-controller'));
    const c = d.spec.template.spec.containers[0];
    expect(d.spec.replicas).toBe(1);
    expect(c.image).toBe(base.image);
    expect(c.args).toContain('--leader-elect');
    const env = Object.fromEntries(
      c.env
        .filter((e: { value?: string }) => e.value !== undefined)
        .map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      VM_RUNNER_IMAGE: base.runnerImage,
      NAD_IPAM_NAME: 'neonvm-overlay-ipam',
      NAD_IPAM_NAMESPACE: 'neonvm-system',
      NAD_RUNNER_NAME: 'neonvm-overlay-for-vms',
      NAD_RUNNER_NAMESPACE: 'neonvm-system',
      WEBHOOK_CERT_MODE: 'self-managed',
    });
    expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([8080, 8081, 9443]);
    expect(c.resources).toBeUndefined();
    const volume = (name: string) =>
      d.spec.template.spec.volumes.find((v: { name: string }) => v.name === name);
    // read-only root: /tmp is an emptyDir (the self-managed certificate is made there)
    expect(volume('tmp').emptyDir).toEqual({ medium: 'Memory', sizeLimit: '16Mi' });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(volume('cert').secret).toEqual({
      secretName: 'webhook-server-cert',
      optional: true,
    });
  });

  test('props: replicas, args, resources', () => {
    const b = buildInstallBundle({
      ...base,
      replicas: 3,
      args: ['--x'],
      resources: { requests: { cpu: '1' } },
    });
    const c = body(find(b.objects, 'Deployment')).spec.template.spec.containers[0];
    expect(body(find(b.objects, 'Deployment')).spec.replicas).toBe(3);
    expect(c.args).toEqual(['--x']);
    expect(c.resources).toEqual({ requests: { cpu: '1' } });
  });

  test('admission policy: refused by default (no flags), opt-ins rendered as operator flags after args', () => {
    const args = (o: object) =>
      body(find(buildInstallBundle({ ...base, ...o }).objects, 'Deployment')).spec.template.spec.containers[0]
        .args as string[];
    expect(args({}).filter((a) => /allow|init-containers/.test(a))).toEqual([]);
    expect(
      args({
        args: ['--x'],
        admission: { runnerImages: ['registry.example.com/neonvm/*'], extraInitContainers: 'unprivileged' },
      }),
    ).toEqual([
      '--x',
      '--allowed-runner-images=registry.example.com/neonvm/*',
      '--extra-init-containers=unprivileged',
    ]);
  });

  test('webhooks: upstream names and paths, Service 443 → 9443', () => {
    const m = body(find(all, 'MutatingWebhookConfiguration'));
    const v = body(find(all, 'ValidatingWebhookConfiguration'));
    expect(
      m.webhooks.map((w: { name: string; clientConfig: { service: { path: string } } }) => [
        w.name,
        w.clientConfig.service.path,
      ]),
    ).toEqual([
      ['mvirtualmachine.kb.io', '/mutate-vm-neon-tech-v1-virtualmachine'],
      ['mvirtualmachinemigration.kb.io', '/mutate-vm-neon-tech-v1-virtualmachinemigration'],
    ]);
    expect(v.webhooks.map((w: { name: string }) => w.name)).toEqual([
      'vvirtualmachine.kb.io',
      'vvirtualmachinemigration.kb.io',
    ]);
    expect(v.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    });
    expect(m.metadata.annotations).toEqual({});
    expect(body(find(all, 'Service', 'neonvm-webhook-service')).spec.ports[0]).toMatchObject({
      port: 443,
      targetPort: 9443,
    });
  });

  test('RBAC is least privilege: no wildcards, no VM create/delete, webhook patch limited by name', () => {
    const rules = managerRules('self-managed');
    expect(rules.flatMap((r) => [...(r.verbs ?? []), ...(r.resources ?? [])])).not.toContain('*');
    expect(rules.flatMap((r) => r.verbs ?? [])).not.toContain('deletecollection');
    const vmRule = rules.find((r) => r.resources?.includes('virtualmachines'))!;
    expect(vmRule.verbs).not.toContain('create');
    expect(vmRule.verbs).not.toContain('delete');
    const hooks = rules.filter((r) => r.apiGroups?.includes('admissionregistration.k8s.io'));
    expect(hooks.map((r) => r.resourceNames)).toEqual([
      ['neonvm-mutating-webhook-configuration'],
      ['neonvm-validating-webhook-configuration'],
    ]);
    expect(
      managerRules('cert-manager').some((r) => r.apiGroups?.includes('admissionregistration.k8s.io')),
    ).toBe(false);
    const le = body(find(all, 'Role', 'neonvm-leader-election-role'));
    expect(le.rules.map((r: { resources: string[] }) => r.resources).flat()).not.toContain('configmaps');
  });

  test('RBAC: Secrets only by name (no list/watch anywhere), each rule under the part that needs it', () => {
    for (const mode of ['self-managed', 'cert-manager'] as const) {
      const secrets = managerRules(mode).filter((r) => r.resources?.includes('secrets'));
      expect(secrets).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'delete'] },
      ]);
      for (const p of operatorPermissions(mode)) expect(p.part).toMatch(/operator\//);
    }
    const roles = all.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    for (const role of roles)
      for (const r of body(role).rules as { resources?: string[]; verbs: string[] }[])
        if (r.resources?.includes('secrets')) expect(r.verbs).not.toEqual(expect.arrayContaining(['list']));
  });

  test('VM editor roles are aggregated into edit/admin only on request; viewers into view', () => {
    const labels = (objs: readonly KubeObject[], name: string) =>
      find(objs, 'ClusterRole', name).metadata.labels ?? {};
    expect(Object.keys(labels(all, 'neonvm-virtualmachine-editor-role'))).not.toContain(
      'rbac.authorization.k8s.io/aggregate-to-edit',
    );
    expect(labels(all, 'neonvm-virtualmachine-viewer-role')).toEqual({
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
    });
    const opted = buildInstallBundle({ ...base, aggregateVmEditorTo: ['edit', 'admin'] }).objects;
    for (const name of ['neonvm-virtualmachine-editor-role', 'neonvm-virtualmachinemigration-editor-role'])
      expect(labels(opted, name)).toMatchObject({
        'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
        'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      });
  });

  test('cert-manager mode: Issuer, Certificate and CA injection', () => {
    const b = buildInstallBundle({ ...base, certificates: 'cert-manager' });
    expect(body(find(b.objects, 'Certificate')).spec).toMatchObject({
      secretName: 'webhook-server-cert',
      dnsNames: [
        'neonvm-webhook-service.neonvm-system.svc',
        'neonvm-webhook-service.neonvm-system.svc.cluster.local',
      ],
      issuerRef: { kind: 'Issuer', name: 'neonvm-selfsigned-issuer' },
    });
    expect(find(b.objects, 'ValidatingWebhookConfiguration').metadata.annotations).toEqual({
      'cert-manager.io/inject-ca-from': 'neonvm-system/neonvm-serving-cert',
    });
    const volumes = body(find(b.objects, 'Deployment')).spec.template.spec.volumes as {
      name: string;
      secret?: { optional: boolean };
    }[];
    expect(volumes.find((v) => v.name === 'cert')?.secret?.optional).toBe(false);
  });

  test('sync waves: CRDs -2, the rest -1', () => {
    const b = buildInstallBundle({ ...base, syncWaves: true });
    expect(b.crds.every((o) => o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] === '-2')).toBe(true);
    expect(b.objects.every((o) => o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] === '-1')).toBe(
      true,
    );
  });

  test('optional Multus and Whereabouts add their CRDs and DaemonSets; no network when disabled', () => {
    const b = buildInstallBundle({ ...base, multus: true, whereabouts: { image: 'w:1' }, network: false });
    expect(b.crds.map((c) => c.metadata.name)).toEqual(
      expect.arrayContaining([
        'network-attachment-definitions.k8s.cni.cncf.io',
        'ippools.whereabouts.cni.cncf.io',
        'overlappingrangeipreservations.whereabouts.cni.cncf.io',
      ]),
    );
    expect(b.objects.filter((o) => o.kind === 'DaemonSet').map((o) => o.metadata.name)).toEqual([
      'multus',
      'whereabouts',
      'neonvm-device-plugin',
    ]);
    expect(b.objects.some((o) => o.kind === 'NetworkAttachmentDefinition')).toBe(false);
    const env = body(find(b.objects, 'Deployment')).spec.template.spec.containers[0].env.map(
      (e: { name: string }) => e.name,
    );
    expect(env).not.toContain('NAD_RUNNER_NAME');
  });

  test('device plugin DaemonSet: every node, critical, least privilege, the two host paths', () => {
    const ds = body(find(all, 'DaemonSet', 'neonvm-device-plugin'));
    expect(ds.metadata.namespace).toBe('neonvm-system');
    const pod = ds.spec.template.spec;
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0];
    expect(c.image).toBe(base.devicePluginImage);
    expect(c.args).toEqual(['--host-root=/host', '--devices-per-resource=1000', '--health-port=8081']);
    expect(c.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts).toEqual([
      { name: 'device-plugins', mountPath: '/var/lib/kubelet/device-plugins' },
      { name: 'host-dev', mountPath: '/host/dev', readOnly: true },
    ]);
    expect(pod.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path)).toEqual([
      '/var/lib/kubelet/device-plugins',
      '/dev',
    ]);
    expect([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual(['/healthz', '/readyz']);
    expect(ds.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'neonvm-device-plugin' });
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
  });

  test('device plugin props: count, node selector, priority, resources, extra args; false installs none', () => {
    const b = buildInstallBundle({
      ...base,
      devicePlugin: {
        devicesPerResource: 50,
        nodeSelector: { 'neon.tech/vm-node': 'true' },
        priorityClassName: 'vm-infra',
        resources: { requests: { cpu: '5m' } },
        extraArgs: ['--optional-device=neonvm/tun=/dev/net/tun'],
      },
    });
    const pod = body(find(b.objects, 'DaemonSet', 'neonvm-device-plugin')).spec.template.spec;
    expect(pod.containers[0].args).toEqual([
      '--host-root=/host',
      '--devices-per-resource=50',
      '--health-port=8081',
      '--optional-device=neonvm/tun=/dev/net/tun',
    ]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'neon.tech/vm-node': 'true' });
    expect(pod.priorityClassName).toBe('vm-infra');
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '5m' } });
    const without = buildInstallBundle({
      image: base.image,
      runnerImage: base.runnerImage,
      devicePlugin: false,
    });
    expect(without.objects.some((o) => o.metadata.name === 'neonvm-device-plugin')).toBe(false);
  });

  test('without a device plugin image the bundle says what is missing and how to opt out', () => {
    expect(() => buildInstallBundle({ image: base.image, runnerImage: base.runnerImage })).toThrow(
      /devicePluginImage is required .*set devicePlugin: false/,
    );
  });

  test('installBundleObjects: every object has identity, names unique per kind/namespace', () => {
    const objs = installBundleObjects({
      ...base,
      multus: true,
      whereabouts: true,
      certificates: 'cert-manager',
    });
    const keys = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('NeonVmInstall', () => {
  test('wraps the bundle, snapshot', () => {
    const chart = Testing.chart();
    const install = new NeonVmInstall(chart, 'neonvm', base);
    const out = Testing.synth(chart);
    expect(out).toMatchSnapshot();
    expect(out.map((o) => o.metadata.name)).toEqual(installBundleObjects(base).map((o) => o.metadata.name));
    expect(install.findObject('Deployment', 'neonvm-controller')).toBeDefined();
    const ds = out.find((o) => o.kind === 'DaemonSet');
    expect(ds?.metadata.name).toBe('neonvm-device-plugin');
    expect(ds?.spec.template.spec.containers[0].image).toBe(base.devicePluginImage);
  });
});
