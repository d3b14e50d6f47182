import { AppsV1Api, BatchV1Api, CoreV1Api, DiscoveryV1Api, V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../host';
import {
  createNamespace,
  isReady,
  kubectl,
  useLocalCluster,
  waitForGone,
  waitForPod,
} from '../testing/local-cluster-fixture';

/** A small HTTP server in the built-in node image: answers /ready and echoes its pod name. */
const httpServer = (port: number) => [
  '-e',
  `require('http').createServer((q, s) => { console.log('request ' + q.url); s.end('hello from ' + process.env.POD_NAME); })` +
    `.listen(${port}, () => console.log('listening on ${port}'));`,
];

const podNameEnv = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };

describe('local cluster workloads', () => {
  const cluster = useLocalCluster();
  let core: CoreV1Api;
  let apps: AppsV1Api;
  beforeAll(() => {
    core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    apps = cluster().kubeConfig.makeApiClient(AppsV1Api);
  });

  it('runs a Deployment: scheduled onto a node, Running and Ready by its readiness probe, logs via kubectl', async () => {
    const namespace = await createNamespace(core, 'deploy');
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'neonvm-test/node',
                  args: httpServer(8080),
                  env: [podNameEnv],
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });

    const pod = await pollUntil(
      async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items.find(isReady),
      { timeoutMs: 30_000, intervalMs: 200, description: 'a Ready pod of Deployment web' },
    );
    expect(cluster().nodeNames).toContain(pod.spec!.nodeName);
    expect(pod.status!.phase).toBe('Running');
    expect(pod.status!.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(pod.status!.containerStatuses![0]).toMatchObject({
      ready: true,
      restartCount: 0,
      state: { running: {} },
    });

    const logs = await kubectl(cluster(), 'logs', '-n', namespace, pod.metadata!.name!);
    expect(logs).toContain('listening on 8080');
    expect(logs).toContain('request /ready');
    const tail = await kubectl(cluster(), 'logs', '-n', namespace, pod.metadata!.name!, '--tail=1');
    expect(tail.trim().split('\n')).toHaveLength(1);
  });

  it('honours the deletion grace period: SIGTERM first, then the pod and its private TMPDIR are gone', async () => {
    const namespace = await createNamespace(core, 'grace');
    const hostDir = mkdtempSync(join(tmpdir(), 'neonvm-grace-'));
    try {
      // Leaves a file in its TMPDIR, traps TERM, records it, takes 1 s to shut down, exits 0.
      const script =
        'touch "$TMPDIR/left-behind"; echo "$TMPDIR" > "$NEONVM_POD_ROOT/out/tmpdir"; ' +
        'trap \'echo seen > "$NEONVM_POD_ROOT/out/term"; sleep 1; exit 0\' TERM; echo started; while :; do sleep 0.2; done';
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'graceful' },
          spec: {
            terminationGracePeriodSeconds: 10,
            volumes: [{ name: 'out', hostPath: { path: hostDir } }],
            containers: [
              {
                name: 'main',
                image: 'neonvm-test/shell',
                command: ['sh', '-c', script],
                volumeMounts: [{ name: 'out', mountPath: '/out' }],
              },
            ],
          },
        },
      });
      await waitForPod(core, namespace, 'graceful', (p) => p.status?.phase === 'Running');
      const podTmp = await pollUntil(
        async () =>
          existsSync(join(hostDir, 'tmpdir'))
            ? readFileSync(join(hostDir, 'tmpdir'), 'utf8').trim() || undefined
            : undefined,
        { timeoutMs: 5_000, description: 'the pod to write its TMPDIR' },
      );
      // A container's own /tmp: not the host's, and what is left in it goes with the pod.
      expect(podTmp).not.toBe(tmpdir());
      expect(existsSync(join(podTmp, 'left-behind'))).toBe(true);
      const started = Date.now();
      await core.deleteNamespacedPod({ name: 'graceful', namespace, gracePeriodSeconds: 5 });
      await waitForGone(
        () => core.readNamespacedPod({ name: 'graceful', namespace }),
        'pod graceful',
        15_000,
      );
      const elapsed = Date.now() - started;
      expect(readFileSync(join(hostDir, 'term'), 'utf8').trim()).toBe('seen');
      // It got to finish its 1 s shutdown, and was not held for the whole 5 s grace period.
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5000);
      expect(existsSync(podTmp)).toBe(false);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('kills a process that ignores SIGTERM once the grace period is over', async () => {
    const namespace = await createNamespace(core, 'kill');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'stubborn' },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'neonvm-test/shell',
              command: ['sh', '-c', "trap '' TERM; while :; do sleep 0.2; done"],
            },
          ],
        },
      },
    });
    await waitForPod(core, namespace, 'stubborn', (p) => p.status?.phase === 'Running');
    const started = Date.now();
    await core.deleteNamespacedPod({ name: 'stubborn', namespace, gracePeriodSeconds: 2 });
    await waitForGone(() => core.readNamespacedPod({ name: 'stubborn', namespace }), 'pod stubborn', 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('garbage-collects dependents when their owner is deleted (kube-controller-manager)', async () => {
    const namespace = await createNamespace(core, 'gc');
    const owner = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'owner' }, data: {} },
    });
    const ownerReferences = [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! },
    ];
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'dependent', ownerReferences },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: 'neonvm-test/pause' }],
        },
      },
    });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'dependent', ownerReferences }, stringData: { a: 'b' } },
    });
    await waitForPod(core, namespace, 'dependent', (p) => p.status?.phase === 'Running');

    await core.deleteNamespacedConfigMap({ name: 'owner', namespace });
    await waitForGone(() => core.readNamespacedSecret({ name: 'dependent', namespace }), 'secret dependent');
    await waitForGone(() => core.readNamespacedPod({ name: 'dependent', namespace }), 'pod dependent');
  });

  it('restarts a failing container with back-off: restartCount, CrashLoopBackOff, last exit code', async () => {
    const namespace = await createNamespace(core, 'crash');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'crasher' },
        spec: {
          containers: [
            { name: 'main', image: 'neonvm-test/shell', command: ['sh', '-c', 'echo crashing; exit 3'] },
          ],
        },
      },
    });
    const pod = await waitForPod(
      core,
      namespace,
      'crasher',
      (p) =>
        (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 &&
        p.status?.containerStatuses?.[0]?.state?.waiting !== undefined,
      30_000,
    );
    const status = pod.status!.containerStatuses![0];
    expect(pod.status!.phase).toBe('Running');
    expect(status.state!.waiting!.reason).toBe('CrashLoopBackOff');
    expect(status.lastState!.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(status.ready).toBe(false);
    const ready = pod.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    // The previous run's log is still served.
    expect(await kubectl(cluster(), 'logs', '-n', namespace, 'crasher', '--previous')).toContain('crashing');
    // kubelet-style events tell the story in `kubectl describe`.
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.name=crasher',
    });
    expect(events.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Scheduled', 'Started', 'BackOff']),
    );
  });

  it('reports an unknown image as ErrImagePull / ImagePullBackOff and keeps the pod Pending', async () => {
    const namespace = await createNamespace(core, 'image');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'no-image' },
        spec: { containers: [{ name: 'main', image: 'neonvm-test/does-not-exist:1.0' }] },
      },
    });
    const pod = await waitForPod(
      core,
      namespace,
      'no-image',
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(pod.status!.phase).toBe('Pending');
    expect(pod.status!.containerStatuses![0].state!.waiting!.message).toContain(
      'neonvm-test/does-not-exist:1.0',
    );
  });

  it('gives pods on different nodes their own port space and lets them talk to each other', async () => {
    const namespace = await createNamespace(core, 'net');
    const [nodeA, nodeB] = cluster().nodeNames;
    const server = (
      name: string,
      node: string,
      extraEnv: { name: string; value: string }[],
      script: string[],
    ): V1Pod => ({
      metadata: { name, labels: { app: name } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [
          {
            name: 'main',
            image: 'neonvm-test/node',
            args: script,
            env: [podNameEnv, ...extraEnv],
            readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 },
          },
        ],
      },
    });
    await core.createNamespacedPod({ namespace, body: server('alpha', nodeA, [], httpServer(9000)) });
    const alpha = await waitForPod(core, namespace, 'alpha', isReady);

    // beta listens on the same port and fetches alpha's page through the pod network.
    const fetchAlpha = [
      '-e',
      httpServer(9000)[1] +
        `setTimeout(() => fetch('http://' + process.env.ALPHA_IP + ':9000/from-beta').then((r) => r.text()).then((t) => console.log('got: ' + t), (e) => console.log('error: ' + e.message)), 100);`,
    ];
    await core.createNamespacedPod({
      namespace,
      body: server('beta', nodeB, [{ name: 'ALPHA_IP', value: alpha.status!.podIP! }], fetchAlpha),
    });
    const beta = await waitForPod(core, namespace, 'beta', isReady);

    expect(alpha.spec!.nodeName).toBe(nodeA);
    expect(beta.spec!.nodeName).toBe(nodeB);
    expect(beta.status!.podIP).not.toBe(alpha.status!.podIP);
    const log = await pollUntil(
      async () => {
        const text = await core.readNamespacedPodLog({ name: 'beta', namespace });
        return /got: |error: /.test(text) ? text : undefined;
      },
      { timeoutMs: 10_000, description: "beta's fetch of alpha" },
    );
    expect(log).toContain('got: hello from alpha');
    expect(await core.readNamespacedPodLog({ name: 'alpha', namespace })).toContain('request /from-beta');
    // Pod IPs are not loopback, so Services get real endpoints (the EndpointSlice controller rejects 127/8).
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'alpha' },
        spec: { selector: { app: 'alpha' }, ports: [{ port: 80, targetPort: 9000 }] },
      },
    });
    const discovery = cluster().kubeConfig.makeApiClient(DiscoveryV1Api);
    const addresses = await pollUntil(
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: 'kubernetes.io/service-name=alpha',
        });
        const found = slices.items.flatMap((sl) => sl.endpoints.flatMap((e) => e.addresses));
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 15_000, description: 'EndpointSlice of Service alpha' },
    );
    expect(addresses).toEqual([alpha.status!.podIP]);
    // The host reaches pod IPs too.
    const res = await fetch(`http://${beta.status!.podIP}:9000/from-host`);
    expect(await res.text()).toBe('hello from beta');
  });

  it('projects env and volumes: fieldRef, configMap/secret keys, live configMap updates, downward API', async () => {
    const namespace = await createNamespace(core, 'vol');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { 'mode.txt': 'one', LEVEL: '3' } },
    });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
    });
    const script = [
      'echo "env: $POD_NAME $POD_NS $NODE $LEVEL $PASSWORD"',
      'cat "$NEONVM_POD_ROOT/etc/settings/mode.txt"; echo',
      'cat "$NEONVM_POD_ROOT/etc/podinfo/labels"; echo',
      'last=""; while :; do m=$(cat "$NEONVM_POD_ROOT/etc/settings/mode.txt"); [ "$m" != "$last" ] && echo "mode: $m" && last=$m; sleep 0.2; done',
    ].join('; ');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'reader', labels: { tier: 'test' } },
        spec: {
          volumes: [
            { name: 'settings', configMap: { name: 'settings' } },
            {
              name: 'podinfo',
              downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
            },
          ],
          containers: [
            {
              name: 'main',
              image: 'neonvm-test/shell',
              command: ['sh', '-c', script],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
              ],
              volumeMounts: [
                { name: 'settings', mountPath: '/etc/settings' },
                { name: 'podinfo', mountPath: '/etc/podinfo' },
              ],
            },
          ],
        },
      },
    });
    const pod = await waitForPod(core, namespace, 'reader', (p) => p.status?.phase === 'Running');
    const logs = () => core.readNamespacedPodLog({ name: 'reader', namespace });
    await pollUntil(async () => ((await logs()).includes('mode: one') ? true : undefined), {
      timeoutMs: 10_000,
      description: 'first mode',
    });
    const text = await logs();
    expect(text).toContain(`env: reader ${namespace} ${pod.spec!.nodeName} 3 s3cret`);
    expect(text).toContain('tier="test"');

    await core.replaceNamespacedConfigMap({
      name: 'settings',
      namespace,
      body: { metadata: { name: 'settings' }, data: { 'mode.txt': 'two', LEVEL: '3' } },
    });
    await pollUntil(async () => ((await logs()).includes('mode: two') ? true : undefined), {
      timeoutMs: 10_000,
      description: 'updated mode',
    });
  });

  it('runs init containers in order before the app container', async () => {
    const namespace = await createNamespace(core, 'init');
    const dir = mkdtempSync(join(tmpdir(), 'neonvm-init-'));
    try {
      const step = (name: string) => ({
        name,
        image: 'neonvm-test/shell',
        command: ['sh', '-c', `echo ${name} >> "$NEONVM_POD_ROOT/out/order"`],
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
      });
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'inits' },
          spec: {
            restartPolicy: 'Never',
            volumes: [{ name: 'out', hostPath: { path: dir } }],
            initContainers: [step('first'), step('second')],
            containers: [step('app')],
          },
        },
      });
      const pod = await waitForPod(core, namespace, 'inits', (p) => p.status?.phase === 'Succeeded');
      expect(readFileSync(join(dir, 'order'), 'utf8')).toBe('first\nsecond\napp\n');
      expect(pod.status!.initContainerStatuses!.map((s) => s.state!.terminated!.reason)).toEqual([
        'Completed',
        'Completed',
      ]);
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('supports kubectl exec (stdout, stdin, exit code) and kubectl port-forward', async () => {
    const namespace = await createNamespace(core, 'stream');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'target' },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'neonvm-test/node',
              args: httpServer(8080),
              env: [podNameEnv, { name: 'GREETING', value: 'hi' }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    });
    const pod = await waitForPod(core, namespace, 'target', isReady);
    const exec = (...args: string[]) => kubectl(cluster(), 'exec', '-n', namespace, 'target', '--', ...args);

    // The command runs in the container's network namespace and environment.
    expect(await exec('sh', '-c', 'echo $GREETING $NEONVM_POD_IP')).toBe(`hi ${pod.status!.podIP}\n`);
    await expect(exec('sh', '-c', 'exit 7')).rejects.toMatchObject({ code: 7 });

    const kc = ['--kubeconfig', cluster().kubeconfigPath, '-n', namespace];
    const piped = await new Promise<string>((resolve, reject) => {
      const child = spawn(cluster().binaries.kubectl, [...kc, 'exec', '-i', 'target', '--', 'cat']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
      child.stdin.end('through stdin\n');
    });
    expect(piped).toBe('through stdin\n');

    const forward = spawn(cluster().binaries.kubectl, [...kc, 'port-forward', 'pod/target', ':8080']);
    try {
      const localPort = await new Promise<number>((resolve, reject) => {
        forward.stdout.on('data', (d: Buffer) => {
          const m = /127\.0\.0\.1:(\d+) ->/.exec(d.toString());
          if (m) resolve(Number(m[1]));
        });
        forward.on('error', reject);
        forward.on('exit', (code) => reject(new Error(`kubectl port-forward exited with ${code}`)));
      });
      const res = await fetch(`http://127.0.0.1:${localPort}/through-port-forward`);
      expect(await res.text()).toBe('hello from target');
    } finally {
      forward.kill();
    }
  });

  it('gives each container its own PID namespace (PID 1, ps, kill 1) and the pod one UTS and IPC namespace', async () => {
    const namespace = await createNamespace(core, 'pidns');
    // PID 1 handles SIGTERM (a PID 1 without a handler ignores it, as in any container).
    const main = 'trap "echo TERM received; exit 3" TERM; echo started; while :; do sleep 1; done';
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'isolated' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'main', image: 'neonvm-test/shell', command: ['sh', '-c', main] },
            { name: 'side', image: 'neonvm-test/shell', command: ['sleep', '600'] },
          ],
        },
      },
    });
    await waitForPod(core, namespace, 'isolated', (p) => p.status?.phase === 'Running');
    const exec = (container: string, script: string) =>
      kubectl(cluster(), 'exec', '-n', namespace, 'isolated', '-c', container, '--', 'sh', '-c', script);

    // First, that PID 1 in the container is the container's own process (never signal 1 before this).
    const cmdline = await exec('main', `tr '\\0' ' ' < /proc/1/cmdline`);
    expect(cmdline).toBe(`sh -c ${main} `);
    expect(await exec('side', `tr '\\0' ' ' < /proc/1/cmdline`)).toBe('sleep 600 ');
    // ps lists the container's processes and the exec'd command, nothing of the host.
    const ps = (await exec('main', 'ps -e -o pid=,comm=')).trim().split('\n');
    expect(ps.length).toBeLessThanOrEqual(4);
    expect(ps[0].trim()).toBe('1 sh');
    // Hostname = pod name; UTS and IPC shared by the pod's containers, none of them the host's.
    expect(await exec('main', 'hostname')).toBe('isolated\n');
    const ns = (container: string) =>
      exec(container, 'readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/pid');
    const [mainNs, sideNs] = [(await ns('main')).split('\n'), (await ns('side')).split('\n')];
    expect(sideNs.slice(0, 2)).toEqual(mainNs.slice(0, 2));
    expect(sideNs[2]).not.toBe(mainNs[2]);
    const host = ['uts', 'ipc', 'pid'].map((k) => readlinkSync(`/proc/self/ns/${k}`));
    for (const [i, id] of mainNs.slice(0, 3).entries()) expect(id).not.toBe(host[i]);

    // kill 1 from kubectl exec ends the container's main process, which restarts under the policy.
    await exec('main', 'kill 1');
    const restarted = await waitForPod(
      core,
      namespace,
      'isolated',
      (p) => (p.status?.containerStatuses?.find((c) => c.name === 'main')?.restartCount ?? 0) >= 1,
    );
    const status = restarted.status!.containerStatuses!.find((c) => c.name === 'main')!;
    expect(status.lastState?.terminated?.exitCode).toBe(3);
    expect(await kubectl(cluster(), 'logs', '-n', namespace, 'isolated', '-c', 'main', '--previous')).toBe(
      'started\nTERM received\n',
    );
    // The other container was not touched.
    expect(restarted.status!.containerStatuses!.find((c) => c.name === 'side')!.restartCount).toBe(0);
  });

  it('restarts a container whose liveness probe fails, and completes a Job (restartPolicy OnFailure)', async () => {
    const namespace = await createNamespace(core, 'probe');
    // Healthy while the marker file exists; the container removes it after a moment.
    const script =
      'touch "$NEONVM_POD_ROOT/healthy"; sleep 1; rm "$NEONVM_POD_ROOT/healthy"; while :; do sleep 0.2; done';
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'unhealthy' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: 'neonvm-test/shell',
              command: ['sh', '-c', script],
              livenessProbe: {
                exec: { command: ['sh', '-c', 'test -f "$NEONVM_POD_ROOT/healthy"'] },
                periodSeconds: 1,
                failureThreshold: 1,
              },
            },
          ],
        },
      },
    });
    await waitForPod(
      core,
      namespace,
      'unhealthy',
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      20_000,
    );
    const reasons = (await core.listNamespacedEvent({ namespace })).items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'Killing']));

    const batch = cluster().kubeConfig.makeApiClient(BatchV1Api);
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 2,
          template: {
            spec: {
              restartPolicy: 'OnFailure',
              containers: [{ name: 'main', image: 'neonvm-test/shell', command: ['sh', '-c', 'echo done'] }],
            },
          },
        },
      },
    });
    const job = await pollUntil(
      async () => {
        const j = await batch.readNamespacedJob({ name: 'once', namespace });
        return (j.status?.succeeded ?? 0) >= 1 ? j : undefined;
      },
      { timeoutMs: 30_000, description: 'Job once to succeed' },
    );
    expect(job.status!.conditions!.map((c) => c.type)).toContain('Complete');
    const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: 'job-name=once' })).items;
    expect(pod.status!.phase).toBe('Succeeded');
    // follow on a finished container returns what it wrote and ends.
    expect(await kubectl(cluster(), 'logs', '-f', '-n', namespace, pod.metadata!.name!)).toBe('done\n');
  });
});
