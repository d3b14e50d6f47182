/**
 * Integration-test fixture: a local cluster with our CRDs, the fake runner installed as the `runner`
 * command, a fake root-disk image, and helpers to start operators in-process against it.
 */
import { rmSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import type { LocalCluster } from '../../cluster';
import { pollUntil } from '../../host';
import {
  GROUP,
  VERSION,
  VIRTUAL_MACHINE,
  type KindInfo,
  VIRTUAL_MACHINE_MIGRATION,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { CustomResourceClient, type KubeObject } from '../../kube';
import { silentLogger, createLogger } from '../../operator/controller-kit';
import { neonvmResource } from '../../operator/neonvm-resources';
import { Operator, type OperatorOptions } from '../../operator/operator';
import { localOperatorOptions, localOperatorSettings } from '../../local-stack';
import { useLocalCluster } from '../../cluster/testing';
import {
  FAKE_DISK_IMAGE,
  FAKE_RUNNER_IMAGE,
  installCrds,
  installRunnerShim,
  registerFakeImages,
} from './operator-env';

export const OPERATOR_NAMESPACE = 'neonvm-system';
export { FAKE_DISK_IMAGE, FAKE_RUNNER_IMAGE };

export interface OperatorTestEnv {
  cluster(): LocalCluster;
  core(): CoreV1Api;
  custom(): CustomObjectsApi;
  startOperator(overrides?: Partial<OperatorOptions>): Promise<Operator>;
}

export function useOperatorCluster(): OperatorTestEnv {
  const shimDir = installRunnerShim('full');
  const cluster = useLocalCluster({ nodes: 3 });
  const operators: Operator[] = [];
  beforeAll(async () => {
    await installCrds(cluster());
    registerFakeImages(cluster(), shimDir);
    const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } });
  }, 120_000);
  afterEach(async () => {
    await Promise.all(operators.splice(0).map((o) => o.stop()));
  }, 60_000);
  afterAll(() => rmSync(shimDir, { recursive: true, force: true }));

  return {
    cluster,
    core: () => cluster().kubeConfig.makeApiClient(CoreV1Api),
    custom: () => cluster().kubeConfig.makeApiClient(CustomObjectsApi),
    async startOperator(overrides = {}) {
      const op = new Operator({
        ...localOperatorOptions(cluster().kubeConfig, localOperatorSettings(FAKE_RUNNER_IMAGE), {
          identity: `test-operator-${operators.length}`,
          concurrency: 4,
          log: process.env.NEONVM_TEST_LOG
            ? createLogger({ level: process.env.NEONVM_TEST_LOG })
            : silentLogger(),
        }),
        ...overrides,
      });
      operators.push(op);
      await op.start();
      return op;
    },
  };
}

export function vmBody(name: string, extra: Record<string, unknown> = {}): VirtualMachine {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VirtualMachine',
    metadata: { name },
    spec: {
      guest: {
        cpus: { min: 1, max: 4, use: 1 },
        memorySlots: { min: 1, max: 4, use: 1 },
        rootDisk: { image: FAKE_DISK_IMAGE },
      },
      ...extra,
    },
  } as VirtualMachine;
}

/** Typed CRUD for the tests (the operator's own client; objects created with field manager `neonvm-test`). */
function testClient<T extends KubeObject>(custom: CustomObjectsApi, kind: KindInfo, namespace: string) {
  const c = new CustomResourceClient<T>(custom, neonvmResource(kind), 'neonvm-test');
  return {
    create: (body: unknown) => c.create(namespace, body as T),
    get: (name: string) => c.get(namespace, name),
    delete: (name: string) => c.delete(namespace, name),
  };
}

export const vmApi = (custom: CustomObjectsApi, namespace: string) =>
  testClient<VirtualMachine>(custom, VIRTUAL_MACHINE, namespace);

export const migrationApi = (custom: CustomObjectsApi, namespace: string) =>
  testClient<VirtualMachineMigration>(custom, VIRTUAL_MACHINE_MIGRATION, namespace);

export function waitForVm(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  predicate: (vm: VirtualMachine) => boolean,
  timeoutMs = 60_000,
): Promise<VirtualMachine> {
  return pollUntil(
    async () => {
      const vm = await vmApi(custom, namespace).get(name);
      return predicate(vm) ? vm : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `VM ${namespace}/${name}` },
  );
}

export async function runnerPods(core: CoreV1Api, namespace: string, vmName: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `vm.neon.tech/name=${vmName}` })).items;
}
