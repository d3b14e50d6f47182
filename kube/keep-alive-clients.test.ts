import { requestResource } from './keep-alive-clients';

describe('requestResource', () => {
  it.each([
    ['https://10.0.0.1:6443/api/v1/namespaces/ns/pods', 'pods'],
    ['https://10.0.0.1:6443/api/v1/namespaces/ns/pods/p-1/status', 'pods/status'],
    ['https://10.0.0.1:6443/api/v1/pods?labelSelector=x', 'pods'],
    ['https://h/apis/vm.neon.tech/v1/namespaces/ns/virtualmachines/vm/status', 'virtualmachines/status'],
    ['https://h/apis/vm.neon.tech/v1/virtualmachines', 'virtualmachines'],
    ['https://h/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', 'leases'],
    ['https://h/api/v1/namespaces/ns', 'namespaces'],
    ['https://h/api/v1/namespaces', 'namespaces'],
    ['https://h/version', 'other'],
    ['/apis/vm.neon.tech/v1', 'other'],
  ])('%s → %s', (url, resource) => {
    expect(requestResource(url)).toBe(resource);
  });
});
