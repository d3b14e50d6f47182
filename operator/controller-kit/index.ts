/**
 * controller-kit: the controller machinery written once and shared by every NeonVM controller (work
 * queue, controller loop, leader election, conditions, events, finalizers, status writes, metrics,
 * probes, logging). The Kubernetes client layer under it (informers, caches, keys, errors, patches) is
 * the top-level `kube/`.
 */
export * from './backoff';
export * from './clock';
export * from './conditions';
export * from './controller';
export * from './events';
export * from './failing-reporter';
export * from './failure-tracker';
export * from './finalizers';
export * from './health-server';
export * from './kube-lease-store';
export * from './leader-election';
export * from './logger';
export * from './metrics';
export * from './retry-later';
export * from './status-writer';
export * from './work-queue';
export * from './write-queue';
