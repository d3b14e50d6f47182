/**
 * The Kubernetes client layer shared by the operator and the local cluster's node agent: the informer
 * (list+watch with relist on 410 and capped back-off) and its object cache, object keys, API error
 * classification, merge patches, typed custom-resource access, and the lean API client (kubeconfig
 * loading, REST calls and watches on node:https). Nothing exported here loads @kubernetes/client-node's
 * generated code (its index costs ~65 MiB RSS; kube-connection.ts): the helpers built on its clients
 * (keep-alive API clients, typed decoding of watch JSON) are in `kube/client-node`.
 */
export * from './custom-resource-client';
export * from './errors';
export * from './informer';
export * from './kube-apis';
export * from './kube-client';
export * from './kube-connection';
export * from './merge-patch';
export * from './object-cache';
export * from './object-key';
export * from './request-rate-limit';
export * from './request-resource';
