export * from './migration-pki';
export * from './migration-tls-issuer';
