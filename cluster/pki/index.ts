export * from './cert-profile';
export * from './certificate-authority';
