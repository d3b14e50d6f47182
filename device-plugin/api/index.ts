export * from './kubelet-api';
export * from './grpc-services';
