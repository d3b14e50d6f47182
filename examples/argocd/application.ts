/** The example ArgoCD Application: syncs the app-repo's synthesized YAML with NeonVM's options. */
import { argoCdApplication, type ArgoCdApplication } from '../../constructs';

export function exampleArgoCdApplication(): ArgoCdApplication {
  return argoCdApplication({
    name: 'my-vms',
    repoURL: 'https://github.com/example/my-vms.git',
    path: 'dist',
    namespace: 'apps',
    // The VMs' Application may sync before the one installing NeonVM's CRDs: skip the dry run of the
    // unknown kind, and retry until the CRDs are there.
    skipDryRunOnMissingResource: true,
    retryLimit: 5,
  });
}
