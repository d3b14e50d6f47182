/**
 * NeonVM on one machine: the local cluster with our CRDs, the operator, the runner as the runner pod's
 * command and the Debian guest image (NeonVmStack), and the seed README's flows run against it
 * (SeedFlow); the same machine the GitOps way, with Argo CD (GitOpsStack). `npm start`, the end-to-end
 * tests and the benchmarks use them.
 */
export * from './neonvm-stack';
export * from './local-release';
export * from './release-stack';
export * from './runner-command';
export * from './seed-flow';
export * from './gitops-stack';
export * from './argocd-application';
