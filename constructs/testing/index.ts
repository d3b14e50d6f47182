export * from './network-policy-semantics';
