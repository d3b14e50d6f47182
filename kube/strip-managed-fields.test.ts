import { stripManagedFields } from './informer';

describe('stripManagedFields', () => {
  it('drops metadata.managedFields and keeps everything else', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', labels: { a: 'b' }, managedFields: [{ manager: 'x' }] },
      spec: { containers: [] },
    };
    expect(stripManagedFields(pod)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', labels: { a: 'b' } },
      spec: { containers: [] },
    });
    expect(pod.metadata.managedFields).toHaveLength(1); // the input is not changed
  });

  it('returns an object without managedFields as it is', () => {
    const obj = { metadata: { name: 'x' } };
    expect(stripManagedFields(obj)).toBe(obj);
  });
});
