/** neonvm/operator: controllers, webhooks and IPAM of NeonVM. */
export * from './config';
export * from './operator';
export * from './runner-client';
export * from './pod';
export * from './ipam';
export * from './webhooks';
export * as controllerKit from './controller-kit';
