export * from './build-runner-pod';
export * from './node-affinity';
export * from './pod-metadata';
export * from './runner-pod-config';
export * from './runner-pod-status';
export * from './image-pull-status';
