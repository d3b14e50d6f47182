/**
 * A real Kubernetes node in the local cluster, next to the node-agent nodes: the kubelet of the
 * cluster's own Kubernetes build, containerd 2.x with runc and the CNI plugins, and kube-proxy, from the
 * node toolchain, in a mount namespace (node-layout.ts) and a network namespace (node-network.ts) of
 * its own, routed on the cluster bridge. It joins like any node: a kubeconfig with a client certificate
 * for system:node:<name> (O=system:nodes) from the cluster CA, and a serving certificate for its address
 * that the API server verifies (logs, exec, port-forward); kube-proxy as system:kube-proxy. Its pods
 * reach the API server through the `kubernetes` Service, as in any cluster.
 *
 * stop() removes everything it created and reports what could not be removed (tests assert it is
 * empty): kubelet and kube-proxy stopped, every pod sandbox stopped and removed through CRI (containerd
 * runs each CNI DEL), containerd stopped, the node's namespaces left empty (shims and anything else in
 * them killed by PID), its cgroups removed, its network namespace and uplink deleted, its directory
 * deleted.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, V1Node } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ensureNodeToolchain, NodeToolchain } from '../build';
import { renderKubeconfig } from '../control-plane';
import type { LocalCluster } from '../local-cluster';
import { canonicalImageRef } from '../image-store';
import { ClusterNetwork } from '../network';
import { ManagedProcess, pollUntil, registerEmergencyCleanup } from '../../host';
import { renderCniConfig } from './cni-config';
import { CONTAINERD_SOCKET, hasSysResource, renderContainerdConfig } from './containerd-config';
import { tunablesToMask } from './kernel-tunables';
import { kubeletArgs, renderKubeletConfig } from './kubelet-config';
import { KUBE_PROXY_HEALTHZ_PORT, renderKubeProxyConfig } from './kube-proxy-config';
import { realNodeAddressing } from './node-addressing';
import { NodeCgroups } from './node-cgroups';
import { BindMount, hostPathOf, NodeLayout, nodeLayout } from './node-layout';
import { NodeNamespace } from './node-namespace';
import { NodeNetwork } from './node-network';
import { missingFromBoundingSet, renderRuncWrapper } from './runc-bounded';
import { detectSnapshotter } from './snapshotter';

const run = promisify(execFile);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * An image as a `docker save` tar, or an OCI layout as a tar, and the reference pods use for it
 * (image/node-images makes the docker ones).
 */
export interface NodeImage {
  /** A tag (`repo:tag`) or a digest reference (`repo@sha256:...`, as install manifests pin them). */
  readonly ref: string;
  readonly archive: string;
  /**
   * For OCI layout tars, whose `org.opencontainers.image.ref.name` annotations are bare tags: the
   * repository they are imported under (ctr's `--base-name`). A digest `ref` is then tagged onto the
   * imported image with that digest, as a pull by digest would name it.
   */
  readonly repository?: string;
}

/** `ctr images list` rows: reference and target digest. Pure. */
export function parseCtrImages(output: string): { ref: string; digest: string }[] {
  return output
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 3)
    .map(([ref, , digest]) => ({ ref, digest }));
}

export interface RealNodeOptions {
  /** Node name (default `neonvm-real-<k>`). */
  name?: string;
  /** Index in the cluster's addressing (default: the first one after the node-agent nodes that is free). */
  index?: number;
  /** The pod sandbox image, imported before the kubelet starts and pinned in containerd. */
  sandboxImage: NodeImage;
  /** More images to import before the kubelet starts (the node has no registry access). */
  images?: readonly NodeImage[];
  /** Default: {@link ensureNodeToolchain} (builds it if needed: a long cold build). */
  toolchain?: NodeToolchain;
  labels?: Readonly<Record<string, string>>;
  /** Until the Node is Ready (default 180 s: the kubelet's first start on 2 busy cores is slow). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What stop() could not remove. Empty lists everywhere = nothing left behind. */
export interface RealNodeLeftovers {
  /** PIDs still in the node's mount namespace or cgroups. */
  processes: number[];
  cgroups: string[];
  /** Host mount points under the node directory. */
  mounts: string[];
  /** The node's network namespace and its uplink on the cluster bridge, if still present. */
  links: string[];
  /** The node directory, if it still exists. */
  dirs: string[];
}

export function isClean(l: RealNodeLeftovers): boolean {
  return Object.values(l).every((v: unknown[]) => v.length === 0);
}

export interface RealNode {
  readonly name: string;
  readonly index: number;
  /** InternalIP, routed on the cluster bridge (kubelet API at :10250). */
  readonly address: string;
  readonly podCidr: string;
  /** The node's network namespace (`ip netns`): kubelet, containerd, kube-proxy, hostNetwork pods. */
  readonly netns: string;
  readonly dir: string;
  readonly layout: NodeLayout;
  readonly snapshotter: 'overlayfs' | 'native';
  readonly cgroupRoot: string;
  readonly containerd: ManagedProcess;
  readonly kubelet: ManagedProcess;
  readonly kubeProxy: ManagedProcess;
  /** Milliseconds from the call until the Node was Ready. */
  readonly readyMs: number;
  /** Imports image tars into containerd's `k8s.io` namespace (the one the CRI uses). */
  importImages(images: readonly NodeImage[]): Promise<void>;
  /** Runs `ctr` against this node's containerd (inside its namespace); stdout. */
  ctr(...args: string[]): Promise<string>;
  /** Runs `crictl` against this node's containerd; stdout. */
  crictl(...args: string[]): Promise<string>;
  /** Runs a command inside the node (its mount and network namespaces); stdout. */
  exec(command: string, ...args: string[]): Promise<string>;
  /** Stops and removes everything; resolves to what was left behind (see {@link isClean}). */
  stop(options?: { deleteNode?: boolean }): Promise<RealNodeLeftovers>;
}

const usedIndices = new WeakMap<ClusterNetwork, Set<number>>();

function pickIndex(cluster: LocalCluster, wanted: number | undefined): number {
  let used = usedIndices.get(cluster.network);
  if (!used) usedIndices.set(cluster.network, (used = new Set()));
  const taken = (i: number): boolean => used.has(i) || i <= cluster.nodes.length;
  let index = wanted ?? cluster.nodes.length + 1;
  if (wanted !== undefined && taken(wanted)) throw new Error(`node index ${wanted} is already in use`);
  while (taken(index)) index++;
  used.add(index);
  return index;
}

async function writeNodeFile(dir: string, nodePath: string, content: string, mode = 0o644): Promise<void> {
  const file = hostPathOf(dir, nodePath);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content, { mode });
}

/** Resolves true on a 200 answer, undefined on any other (or none): a pollUntil probe. */
function healthz(url: string): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function nodeReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)));
}

/**
 * Node-side veth names in `crictl inspectp -o json` output (the CNI result containerd keeps): they live
 * in the node's network namespace, on its pod bridge. Pure.
 */
export function sandboxHostVeths(inspectJson: string): string[] {
  const info = (
    JSON.parse(inspectJson) as { info?: { cniResult?: { Interfaces?: Record<string, unknown> } } }
  ).info;
  return Object.keys(info?.cniResult?.Interfaces ?? {}).filter((n) => n.startsWith('veth'));
}

export async function startRealNode(cluster: LocalCluster, options: RealNodeOptions): Promise<RealNode> {
  const t0 = Date.now();
  const log = options.log ?? (() => undefined);
  const toolchain = options.toolchain ?? (await ensureNodeToolchain());
  const index = pickIndex(cluster, options.index);
  const name = options.name ?? `neonvm-real-${index - cluster.nodes.length}`;
  const addressing = realNodeAddressing(cluster.network.addressing, index, name);
  const { address } = addressing;
  const dir = join(cluster.dir, 'real-nodes', name);
  const layout = nodeLayout(dir, toolchain.cniBinDir);
  const cgroups = new NodeCgroups(addressing.cgroupRoot);
  const network = cluster.network;
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const env = { ...process.env, PATH: `${toolchain.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };

  let nodeNetwork: NodeNetwork | undefined;
  let namespace: NodeNamespace | undefined;
  let containerd: ManagedProcess | undefined;
  let kubelet: ManagedProcess | undefined;
  let kubeProxy: ManagedProcess | undefined;

  const inNode = async (command: string, args: readonly string[], timeoutMs = 120_000): Promise<string> => {
    if (!namespace) throw new Error(`${name}: the node's namespace is gone`);
    try {
      const { stdout } = await run('nsenter', [...namespace.enterArgs(), command, ...args], {
        env,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${name}: ${command} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
    }
  };
  const ctr = (...args: string[]): Promise<string> =>
    inNode(toolchain.ctr, ['--address', CONTAINERD_SOCKET, ...args]);
  const crictl = (...args: string[]): Promise<string> =>
    inNode(toolchain.crictl, [
      '--runtime-endpoint',
      `unix://${CONTAINERD_SOCKET}`,
      '--timeout',
      '60s',
      ...args,
    ]);
  let snapshotter: 'overlayfs' | 'native' = 'overlayfs';
  const importImages = async (images: readonly NodeImage[]): Promise<void> => {
    for (const image of images) {
      await ctr(
        '--namespace',
        'k8s.io',
        'images',
        'import',
        '--snapshotter',
        snapshotter,
        ...(image.repository ? ['--base-name', image.repository] : []),
        image.archive,
      );
      const at = image.ref.indexOf('@');
      if (image.repository && at > 0) {
        const digest = image.ref.slice(at + 1);
        const rows = parseCtrImages(await ctr('--namespace', 'k8s.io', 'images', 'list'));
        const source = rows.find((r) => r.digest === digest && r.ref.startsWith(`${image.repository}:`));
        if (!source)
          throw new Error(`${name}: ${image.archive} has no image ${digest} under ${image.repository}`);
        await ctr('--namespace', 'k8s.io', 'images', 'tag', '--force', source.ref, image.ref);
      }
      // The CRI looks images up by their normalized name (docker.io/library/busybox:latest); a docker
      // save archive may carry the short one, which ctr keeps as it is.
      const canonical = canonicalImageRef(image.ref);
      const listed = (await ctr('--namespace', 'k8s.io', 'images', 'list', '--quiet')).split('\n');
      if (!listed.includes(canonical)) {
        const short = listed.find((r) => r && canonicalImageRef(r) === canonical);
        if (!short)
          throw new Error(`${name}: ${image.archive} imported, but no image ${image.ref} in containerd`);
        await ctr('--namespace', 'k8s.io', 'images', 'tag', '--force', short, canonical);
      }
    }
  };

  // Synchronous last resort (uncaught error, SIGINT): everything the node owns, by PID and by name.
  const emergency = (): void => {
    for (const p of [kubelet, kubeProxy, containerd]) if (p) killAll([p.pid]);
    if (namespace) killAll([...namespace.processes(), namespace.holder.pid]);
    if (nodeNetwork) killAll(nodeNetwork.processes());
    killAll(cgroups.processes());
    cgroups.remove();
    nodeNetwork?.removeSync();
  };
  const unregister = registerEmergencyCleanup(`stop real node ${name}`, emergency);

  const teardown = async (deleteNode: boolean): Promise<RealNodeLeftovers> => {
    if (kubelet) await kubelet.stop(10_000);
    if (kubeProxy) await kubeProxy.stop(10_000);
    if (containerd && !containerd.hasExited && namespace) {
      try {
        await crictl('rmp', '--all', '--force');
      } catch (err) {
        log(`${name}: removing pod sandboxes failed (${(err as Error).message}); killing what is left`);
      }
    }
    if (containerd) await containerd.stop(10_000);
    // Shims (and their containers, if CRI could not remove them) outlive containerd: they are ours by
    // namespace and cgroup membership, nothing else.
    const nodeProcesses = (): number[] => [
      ...(namespace?.processes() ?? []),
      ...(nodeNetwork?.processes().filter((pid) => pid !== namespace?.holder.pid) ?? []),
      ...cgroups.processes(),
    ];
    for (let attempt = 0; attempt < 50; attempt++) {
      const left = nodeProcesses();
      if (left.length === 0) break;
      if (attempt > 0) killAll(left);
      await new Promise((r) => setTimeout(r, 100));
    }
    await namespace?.destroy();
    let cgroupsLeft: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      cgroupsLeft = cgroups.remove();
      if (cgroupsLeft.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    nodeNetwork?.removeSync();
    if (deleteNode) await core.deleteNode({ name }).catch(() => undefined);
    const mounts = hostMountsUnder(dir);
    // Never delete through a mount point (there should be none: the node's mounts lived in its namespace).
    if (mounts.length === 0 && process.env.NEONVM_KEEP_CLUSTER_DIR !== '1')
      rmSync(dir, { recursive: true, force: true });
    unregister();
    usedIndices.get(network)?.delete(index);
    return {
      processes: nodeProcesses(),
      cgroups: cgroupsLeft,
      mounts,
      links: nodeNetwork?.leftovers() ?? [],
      dirs: existsSync(dir) && process.env.NEONVM_KEEP_CLUSTER_DIR !== '1' ? [dir] : [],
    };
  };

  try {
    snapshotter = await detectSnapshotter(dir);
    const procStatus = readFileSync('/proc/self/status', 'utf8');
    const restrictOomScoreAdj = !hasSysResource(procStatus);
    // Capabilities runc could not grant on this machine (runc-bounded.ts): dropped by a wrapper.
    const dropCapabilities = missingFromBoundingSet(procStatus);
    let runc = toolchain.runc;
    if (dropCapabilities.length > 0) {
      if (
        !(await run('sh', ['-c', 'command -v jq']).then(
          () => true,
          () => false,
        ))
      )
        throw new Error(
          `${name}: this machine's capability bounding set lacks ${dropCapabilities.join(', ')}; ` +
            'the runc wrapper that drops them needs jq (apt-get install jq)',
        );
      runc = join(dir, 'runtime', 'runc');
      await mkdir(dirname(runc), { recursive: true });
      await writeFile(runc, renderRuncWrapper(toolchain.runc, dropCapabilities), { mode: 0o755 });
      log(`${name}: runc through ${runc}, without ${dropCapabilities.join(', ')} (not in the bounding set)`);
    }
    for (const d of [...layout.stateDirs, layout.logDir, layout.sysctlDir])
      await mkdir(d, { recursive: true });

    const [client, serving, proxyClient] = await Promise.all([
      cluster.ca.issue(`node-${name}-client`, {
        commonName: `system:node:${name}`,
        organizations: ['system:nodes'],
        usage: 'client',
      }),
      cluster.ca.issue(`node-${name}-serving`, {
        commonName: `system:node:${name}`,
        ips: [address],
        dnsNames: [name],
        usage: 'server',
      }),
      // The identity the default RBAC binds to system:node-proxier.
      cluster.ca.issue(`node-${name}-kube-proxy`, { commonName: 'system:kube-proxy', usage: 'client' }),
    ]);
    const pki = '/etc/kubernetes/pki';
    await writeNodeFile(dir, `${pki}/ca.crt`, cluster.ca.cert);
    await writeNodeFile(dir, `${pki}/kubelet.crt`, serving.cert);
    await writeNodeFile(dir, `${pki}/kubelet.key`, serving.key, 0o600);
    await writeNodeFile(
      dir,
      layout.kubeconfig,
      renderKubeconfig({
        server: cluster.server,
        caCert: cluster.ca.cert,
        clientCert: client.cert,
        clientKey: client.key,
        name,
      }),
      0o600,
    );
    await writeNodeFile(
      dir,
      layout.kubeProxyKubeconfig,
      renderKubeconfig({
        server: cluster.server,
        caCert: cluster.ca.cert,
        clientCert: proxyClient.cert,
        clientKey: proxyClient.key,
        name: `kube-proxy-${name}`,
      }),
      0o600,
    );
    await writeNodeFile(
      dir,
      layout.kubeProxyConfig,
      renderKubeProxyConfig({
        kubeconfigFile: layout.kubeProxyKubeconfig,
        nodeName: name,
        clusterCidr: addressing.clusterCidr,
        oomScoreAdj: restrictOomScoreAdj ? 0 : undefined,
      }),
    );
    await writeNodeFile(
      dir,
      layout.containerdConfig,
      renderContainerdConfig({
        runc,
        sandboxImage: options.sandboxImage.ref,
        snapshotter,
        restrictOomScoreAdj,
      }),
    );
    await writeNodeFile(
      dir,
      layout.cniConfig,
      renderCniConfig({ networkName: `neonvm-${name}`, ...addressing.cni }),
    );
    await writeNodeFile(
      dir,
      layout.kubeletConfig,
      renderKubeletConfig({
        address,
        cgroupRoot: addressing.cgroupRoot,
        podCidr: addressing.podCidr,
        clientCaFile: `${pki}/ca.crt`,
        tlsCertFile: `${pki}/kubelet.crt`,
        tlsKeyFile: `${pki}/kubelet.key`,
        containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
        oomScoreAdj: restrictOomScoreAdj ? 0 : undefined,
      }),
    );
    const masks: BindMount[] = [];
    for (const t of tunablesToMask((p) => readFileSync(join('/proc/sys', p), 'utf8'))) {
      const file = join(layout.sysctlDir, t.path.replace(/\//g, '.'));
      await writeFile(file, `${t.value}\n`);
      masks.push({ source: file, target: join('/proc/sys', t.path), readOnly: true });
    }

    nodeNetwork = await NodeNetwork.create(addressing);
    cgroups.create();
    namespace = await NodeNamespace.create(name, [...layout.mounts, ...masks], {
      logFile: join(layout.logDir, 'ns.log'),
      netnsPath: nodeNetwork.path,
      cgroupStash: layout.cgroupStash,
    });
    const ns = namespace;

    containerd = ManagedProcess.start({
      name: `${name}-containerd`,
      command: 'nsenter',
      args: [...ns.enterArgs(), toolchain.containerd, '--config', layout.containerdConfig],
      logFile: join(layout.logDir, 'containerd.log'),
      env,
    });
    const ctrd = containerd;
    await pollUntil(() => ctr('version').then(() => true), {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `containerd of ${name}`,
      abortIf: () =>
        ctrd.hasExited ? new Error(`containerd of ${name} exited:\n${ctrd.logTail()}`) : undefined,
    });
    log(`${name}: containerd up after ${Date.now() - t0} ms (snapshotter ${snapshotter})`);
    await importImages([options.sandboxImage, ...(options.images ?? [])]);

    kubelet = ManagedProcess.start({
      name: `${name}-kubelet`,
      command: 'nsenter',
      args: [
        ...ns.enterArgs(),
        cluster.binaries.kubelet,
        ...kubeletArgs({
          configFile: layout.kubeletConfig,
          kubeconfigFile: layout.kubeconfig,
          nodeName: name,
          nodeIp: address,
          labels: options.labels,
        }),
      ],
      logFile: join(layout.logDir, 'kubelet.log'),
      env,
    });
    const kl = kubelet;
    const abortIf = (): Error | undefined => {
      for (const [what, p] of [
        ['kubelet', kl],
        ['containerd', ctrd],
        ['kube-proxy', kubeProxy],
      ] as const)
        if (p?.hasExited)
          return new Error(`${what} of ${name} exited (${JSON.stringify(p.exitStatus)}):\n${p.logTail()}`);
      return undefined;
    };
    const timeoutMs = options.readyTimeoutMs ?? 180_000;
    await pollUntil(() => core.readNode({ name }), {
      timeoutMs,
      description: `Node ${name} to register`,
      abortIf,
    });
    // What kube-controller-manager's node IPAM would do (--allocate-node-cidrs): the node's pod range,
    // from the same addressing scheme its CNI configuration hands out.
    await core.patchNode(
      { name, body: { spec: { podCIDR: addressing.podCidr, podCIDRs: [addressing.podCidr] } } },
      mergePatch,
    );
    // kube-proxy once the Node exists (it reads its address from it).
    kubeProxy = ManagedProcess.start({
      name: `${name}-kube-proxy`,
      command: 'nsenter',
      args: [...ns.enterArgs(), toolchain.kubeProxy, `--config=${layout.kubeProxyConfig}`],
      logFile: join(layout.logDir, 'kube-proxy.log'),
      env,
    });
    const kp = kubeProxy;
    await pollUntil(async () => (nodeReady(await core.readNode({ name })) ? true : undefined), {
      timeoutMs,
      intervalMs: 250,
      description: `Node ${name} to become Ready`,
      abortIf,
    });
    // kube-proxy's /healthz answers 200 once it has written the Service rules.
    await pollUntil(() => healthz(`http://${address}:${KUBE_PROXY_HEALTHZ_PORT}/healthz`), {
      timeoutMs,
      intervalMs: 250,
      description: `kube-proxy of ${name} to be healthy`,
      abortIf,
    });
    const readyMs = Date.now() - t0;
    log(`${name}: Ready after ${readyMs} ms`);

    let stopped: Promise<RealNodeLeftovers> | undefined;
    return {
      name,
      index,
      address,
      podCidr: addressing.podCidr,
      netns: addressing.netns,
      dir,
      layout,
      snapshotter,
      cgroupRoot: addressing.cgroupRoot,
      containerd: ctrd,
      kubelet: kl,
      kubeProxy: kp,
      readyMs,
      importImages,
      ctr,
      crictl,
      exec: (command, ...args) => inNode(command, args),
      stop: (opts = {}) => (stopped ??= teardown(opts.deleteNode ?? true)),
    };
  } catch (err) {
    await teardown(true).catch(() => undefined);
    throw err;
  }
}
