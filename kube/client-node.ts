/**
 * The helpers built on @kubernetes/client-node's generated clients and models: keep-alive API clients
 * and typed decoding of watch JSON. Apart from the `kube` index because importing them loads all of
 * client-node (the node agent and the local cluster use them; the operator does not).
 */
export * from './keep-alive-clients';
export * from './serializer';
