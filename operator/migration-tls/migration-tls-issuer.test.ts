import 'reflect-metadata';
import type { V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import { FakeClock } from '../../host';
import { MIGRATION_TLS_SECRET_KEYS as KEYS } from '../../runner/api';
import { certificateRenewalDue, createMigrationCa, issueMigrationCertificate } from './migration-pki';
import { MIGRATION_CA_SECRET, MigrationTlsIssuer, type SecretsApi } from './migration-tls-issuer';

/** Certificates are issued on the real clock: the fake one runs ahead, inside their validity. */
const MINUTE = 60_000;
const vm = (uid: string): VirtualMachine =>
  ({
    apiVersion: 'vm.neon.tech/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'vm1', namespace: 'ns', uid },
    spec: {},
  }) as unknown as VirtualMachine;

const alreadyExists = () =>
  Object.assign(new Error('HTTP-Code: 409'), {
    code: 409,
    body: JSON.stringify({ reason: 'AlreadyExists', message: 'secrets "x" already exists' }),
  });
const notFound = () => Object.assign(new Error('HTTP-Code: 404'), { code: 404 });

/** An in-memory Secret store that counts the calls made to it. */
function fakeSecrets() {
  const store = new Map<string, V1Secret>();
  const calls: string[] = [];
  let version = 0;
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const api: SecretsApi = {
    readNamespacedSecret: (({ name, namespace }: { name: string; namespace: string }) => {
      calls.push(`GET ${name}`);
      const s = store.get(key(namespace, name));
      return s ? Promise.resolve(structuredClone(s)) : Promise.reject(notFound());
    }) as SecretsApi['readNamespacedSecret'],
    createNamespacedSecret: (({ namespace, body }: { namespace: string; body: V1Secret }) => {
      const name = body.metadata?.name ?? '';
      calls.push(`POST ${name}`);
      if (store.has(key(namespace, name))) return Promise.reject(alreadyExists());
      const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      store.set(key(namespace, name), stored);
      return Promise.resolve(stored);
    }) as SecretsApi['createNamespacedSecret'],
    replaceNamespacedSecret: (({
      name,
      namespace,
      body,
    }: {
      name: string;
      namespace: string;
      body: V1Secret;
    }) => {
      calls.push(`PUT ${name}`);
      const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      store.set(key(namespace, name), stored);
      return Promise.resolve(stored);
    }) as SecretsApi['replaceNamespacedSecret'],
  };
  return { api, store, calls };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('MigrationTlsIssuer', () => {
  it('creates a new VM’s Secret without reading it first, and makes no call while it knows it is good', async () => {
    const secrets = fakeSecrets();
    const clock = new FakeClock(Date.now() + MINUTE);
    const issuer = new MigrationTlsIssuer(secrets.api, 'neonvm-system', clock);
    expect(await issuer.ensureForVm(vm('u1'))).toBe('migration-tls-neonvm-vm1');
    expect(secrets.calls).toEqual([
      `GET ${MIGRATION_CA_SECRET}`,
      `POST ${MIGRATION_CA_SECRET}`,
      'POST migration-tls-neonvm-vm1',
    ]);
    secrets.calls.length = 0;
    await issuer.ensureForVm(vm('u1'));
    expect(secrets.calls).toEqual([]);
    // Once the certificate is due, it is checked (and replaced) again.
    const stored = secrets.store.get('ns/migration-tls-neonvm-vm1');
    const due = certificateRenewalDue(Buffer.from(stored?.data?.[KEYS.cert] ?? '', 'base64').toString());
    clock.advance(due + 1 - clock.now());
    await issuer.ensureForVm(vm('u1'));
    expect(secrets.calls).toEqual([
      'POST migration-tls-neonvm-vm1',
      'GET migration-tls-neonvm-vm1',
      'PUT migration-tls-neonvm-vm1',
    ]);
  });

  it('keeps an existing usable Secret (read only after the create answered 409), replaces one from another CA', async () => {
    const secrets = fakeSecrets();
    const clock = new FakeClock(Date.now() + MINUTE);
    const issuer = new MigrationTlsIssuer(secrets.api, 'neonvm-system', clock);
    await issuer.ensureForVm(vm('u1'));
    // A restarted operator knows nothing: it finds the Secret by the 409 and keeps it.
    const restarted = new MigrationTlsIssuer(secrets.api, 'neonvm-system', clock);
    const before = secrets.store.get('ns/migration-tls-neonvm-vm1');
    secrets.calls.length = 0;
    await restarted.ensureForVm(vm('u1'));
    expect(secrets.calls).toEqual([
      `GET ${MIGRATION_CA_SECRET}`,
      'POST migration-tls-neonvm-vm1',
      'GET migration-tls-neonvm-vm1',
    ]);
    expect(secrets.store.get('ns/migration-tls-neonvm-vm1')).toEqual(before);

    // A certificate from another CA is replaced, keeping the Secret's resourceVersion as precondition.
    const otherCa = await createMigrationCa(30);
    const foreign = await issueMigrationCertificate(otherCa, 'u2.migration.neonvm', 10);
    secrets.store.set('ns/migration-tls-neonvm-vm1', {
      metadata: { name: 'migration-tls-neonvm-vm1', namespace: 'ns', resourceVersion: '77' },
      data: { [KEYS.ca]: b64(otherCa.cert), [KEYS.cert]: b64(foreign.cert), [KEYS.key]: b64(foreign.key) },
    });
    secrets.calls.length = 0;
    await restarted.ensureForVm(vm('u2'));
    expect(secrets.calls).toEqual([
      'POST migration-tls-neonvm-vm1',
      'GET migration-tls-neonvm-vm1',
      'PUT migration-tls-neonvm-vm1',
    ]);
    const replaced = secrets.store.get('ns/migration-tls-neonvm-vm1');
    expect(Buffer.from(replaced?.data?.[KEYS.ca] ?? '', 'base64').toString()).not.toBe(otherCa.cert);

    // Forgotten (the VM was deleted): checked again on the next call.
    restarted.forget('u2');
    secrets.calls.length = 0;
    await restarted.ensureForVm(vm('u2'));
    expect(secrets.calls).toEqual(['POST migration-tls-neonvm-vm1', 'GET migration-tls-neonvm-vm1']);
  });

  it('reports failures other than 409 and remembers nothing then', async () => {
    const secrets = fakeSecrets();
    const clock = new FakeClock(Date.now() + MINUTE);
    const issuer = new MigrationTlsIssuer(secrets.api, 'neonvm-system', clock);
    await issuer.caKeyPair();
    const create = secrets.api.createNamespacedSecret;
    secrets.api.createNamespacedSecret = (() =>
      Promise.reject(
        Object.assign(new Error('HTTP-Code: 403'), { code: 403 }),
      )) as SecretsApi['createNamespacedSecret'];
    await expect(issuer.ensureForVm(vm('u1'))).rejects.toThrow('403');
    secrets.api.createNamespacedSecret = create;
    secrets.calls.length = 0;
    await issuer.ensureForVm(vm('u1'));
    expect(secrets.calls).toEqual(['POST migration-tls-neonvm-vm1']);
  });
});
