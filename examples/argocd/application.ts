/** The example ArgoCD Application: syncs the app-repo's synthesized YAML with NeonVM's options. */
import { argoCdApplication, type ArgoCdApplication } from '../../constructs';

export function exampleArgoCdApplication(): ArgoCdApplication {
  return argoCdApplication({
    name: 'my-vms',
    repoURL: 'https://github.com/example/my-vms.git',
    path: 'dist',
    namespace: 'apps',
  });
}
