/**
 * NeonVM as a user installs it, on real nodes: the local cluster's control plane with real nodes
 * only (kubelet + containerd + kube-proxy, cluster/real-node), the release images of `npm run
 * build:images` imported into each node's containerd (no registry is reachable here, so the images
 * are put where a pull from the install manifest's registry would put them), the Debian guest image
 * as a rootDisk container image, Multus' NetworkAttachmentDefinition CRD (the documented cluster
 * prerequisite; Multus itself is not available here), then `kubectl apply -f dist/install/neonvm.yaml`
 * exactly as built: the operator Deployment and the device plugin DaemonSet run as pods, with their
 * default flags. Used by the real-node end-to-end test and by `npm start` when the node toolchain is
 * built.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  ensureK8sBinaries,
  ensureNodeToolchain,
  startLocalCluster,
  startRealNode,
  type LocalCluster,
  type NodeImage,
  type NodeToolchain,
  type RealNode,
} from '../cluster';
import { buildMultus } from '../constructs/install/third-party';
import { INSTALL_NAMES } from '../constructs/install/install-options';
import { DEBIAN_IMAGE_REFS, ensureDebianImage } from '../image/debian';
import { ensureVmDiskArchive } from '../image/builder';
import { ensurePauseImage } from '../image/node-images';
import { IMAGE_NAMES, imageTitle, layoutDigest } from '../release';
import { parseQuantity, quantityValue } from '../crds';
import { pollUntil } from '../host';
import type { NeonVmStack } from './neonvm-stack';

const run = promisify(execFile);

export const RELEASE_NAMESPACE = 'neonvm-system';

export interface ReleaseStackOptions {
  /** Output directory of `npm run build:images` (`images/<name>/` layouts, `install/neonvm.yaml`). */
  readonly dist: string;
  /** The registry prefix the install manifest was rendered for (`--registry`). */
  readonly registry: string;
  /** Real nodes to start (default 2: a live migration needs a second node). */
  readonly realNodes?: number;
  readonly toolchain?: NodeToolchain;
  readonly progress?: (line: string) => void;
}

/** The release images of a dist directory as OCI layout tars, under the references the manifest pins. */
async function releaseImages(dist: string, registry: string, workDir: string): Promise<NodeImage[]> {
  const out: NodeImage[] = [];
  for (const name of IMAGE_NAMES) {
    const layout = join(dist, 'images', name);
    const repository = `${registry.replace(/\/+$/, '')}/${imageTitle(name)}`;
    const archive = join(workDir, `${name}.oci.tar`);
    await run('tar', ['-C', layout, '-cf', archive, '.']);
    out.push({ ref: `${repository}@${await layoutDigest(layout)}`, archive, repository });
  }
  return out;
}

/** A node's allocatable count of a resource (quantities: 1000 is reported as `1k`). */
function allocatable(node: { status?: { allocatable?: Record<string, string> } }, resource: string): bigint {
  return quantityValue(parseQuantity(node.status?.allocatable?.[resource] ?? '0'));
}

export async function startReleaseStack(o: ReleaseStackOptions): Promise<NeonVmStack> {
  const progress = o.progress ?? ((line: string) => console.log(line));
  const workDir = mkdtempSync(join(tmpdir(), 'neonvm-release-stack-'));
  let cluster: LocalCluster | undefined;
  const nodes: RealNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await cluster?.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const [binaries, toolchain] = await Promise.all([
      ensureK8sBinaries(),
      o.toolchain ?? ensureNodeToolchain(),
    ]);
    progress('guest image: neondatabase/vm-debian:11 as a rootDisk container image (/disk.qcow2 + busybox)');
    await ensureDebianImage({ progress: (l) => progress(`  ${l}`) });
    const disk = await ensureVmDiskArchive(DEBIAN_IMAGE_REFS[0]);
    const images = [...(await releaseImages(o.dist, o.registry, workDir)), disk];
    const sandboxImage = await ensurePauseImage(toolchain.pause);

    progress('cluster: control plane, no node-agent nodes');
    cluster = await startLocalCluster({ binaries, nodes: 0, log: (l) => progress(`  ${l}`) });
    const c = cluster;
    const count = o.realNodes ?? 2;
    progress(
      `real nodes: starting ${count} (kubelet, containerd, kube-proxy; importing ${images.map((i) => i.ref).join(', ')})`,
    );
    await Promise.all(
      Array.from({ length: count }, async () => {
        nodes.push(
          await startRealNode(c, { sandboxImage, images, toolchain, log: (l) => progress(`  ${l}`) }),
        );
      }),
    );
    nodes.sort((a, b) => a.index - b.index);
    const kubectl = async (...args: string[]): Promise<string> =>
      (await run(c.binaries.kubectl, ['--kubeconfig', c.kubeconfigPath, ...args], { maxBuffer: 16 << 20 }))
        .stdout;

    progress('prerequisite: the NetworkAttachmentDefinition CRD (what a Multus install brings)');
    const nadCrd = join(workDir, 'nad-crd.json');
    writeFileSync(nadCrd, JSON.stringify(buildMultus().crds[0]));
    await kubectl('apply', '-f', nadCrd);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', nadCrd);

    const manifest = join(o.dist, 'install', 'neonvm.yaml');
    progress(`$ kubectl apply -f ${manifest}`);
    progress((await kubectl('apply', '-f', manifest)).trimEnd());
    const ns = ['-n', RELEASE_NAMESPACE];
    await kubectl(...ns, 'rollout', 'status', `deployment/${INSTALL_NAMES.deployment}`, '--timeout=600s');
    await kubectl(...ns, 'rollout', 'status', `daemonset/${INSTALL_NAMES.devicePlugin}`, '--timeout=600s');
    // The device plugin has registered its resources with every kubelet.
    const core = c.kubeConfig.makeApiClient(CoreV1Api);
    await pollUntil(
      async () => {
        const listed = (await core.listNode()).items;
        return listed.every((n) => allocatable(n, 'neonvm/vhost-net') > 0n) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'neonvm/vhost-net on every node' },
    );
    progress(`operator and device plugin running on ${nodes.map((n) => n.name).join(', ')}`);
    const operator = {
      stop: async () => {
        await kubectl(...ns, 'scale', `deployment/${INSTALL_NAMES.deployment}`, '--replicas=0');
      },
    };
    return { cluster: c, operator, realNodes: nodes, kubectl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
