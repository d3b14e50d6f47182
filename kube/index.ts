/**
 * The Kubernetes client layer shared by the operator and the local cluster's node agent: the informer
 * (list+watch with relist on 410 and capped back-off) and its object cache, object keys, API error
 * classification, merge patches, typed custom-resource access, keep-alive API clients and the decoding
 * of raw API JSON. It builds on host/ and @kubernetes/client-node only.
 */
export * from './custom-resource-client';
export * from './errors';
export * from './informer';
export * from './keep-alive-clients';
export * from './merge-patch';
export * from './object-cache';
export * from './object-key';
export * from './request-rate-limit';
export * from './serializer';
