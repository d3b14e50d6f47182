import {
  PLATFORM_APPS,
  platformChildApplications,
  platformRootApplication,
  type PlatformRepoOptions,
} from './platform-repo';

const options: PlatformRepoOptions = {
  repoURL: 'git://git.example/platform.git',
  install: { image: 'neonvm/controller:1', runnerImage: 'neonvm/runner:1' },
  addVms: () => undefined,
};

describe('the platform repository Applications', () => {
  const [install, vms] = platformChildApplications(options);

  test('the install app never prunes or cascades a delete: removing a CRD from git cannot delete VMs', () => {
    expect(install.metadata.name).toBe(PLATFORM_APPS.install);
    expect(install.spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: true });
    expect(install.metadata.finalizers).toBeUndefined();
    expect(install.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('-1');
  });

  test('the VMs app prunes, self-heals, cascades a delete and syncs after the install', () => {
    expect(vms.metadata.name).toBe(PLATFORM_APPS.vms);
    expect(vms.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(vms.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    expect(vms.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('0');
    expect(vms.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
  });

  test('the root Application reads apps/ in the argocd namespace', () => {
    const root = platformRootApplication(options);
    expect(root.metadata).toMatchObject({ name: PLATFORM_APPS.root, namespace: 'argocd' });
    expect(root.spec.source).toMatchObject({ repoURL: options.repoURL, path: 'apps' });
  });
});
