/**
 * The condition of every suite that starts real nodes: root (namespaces, cgroups, mounts) and the
 * real-node toolchain built or being built. `npm test` and CI start its build in the background
 * early; a suite that finds it running waits for it in its beforeAll (ensureNodeToolchain), like the
 * other suites wait for the Kubernetes build — unless NEONVM_NODE_TOOLCHAIN_NO_WAIT=1, which
 * scripts/test.sh sets when the build did not finish within the run's time budget. Only then, or when
 * it is neither there nor building, does the suite skip, and says why.
 */
import { describeIf } from '../../host/testing';
import { nodeToolchainAvailability } from '../build';

/** Why real-node suites cannot run here, or undefined when they can. Pure given its inputs. */
export function realNodeSkipReason(
  root: boolean,
  availability: 'built' | 'building' | 'missing',
  noWait: boolean,
): string | undefined {
  if (!root) return 'needs root (mount and network namespaces, cgroups, bridge ports)';
  if (availability === 'missing')
    return 'the real-node toolchain is not built and no build is running (scripts/build-node-toolchain.sh; npm test and CI start it in the background)';
  if (availability === 'building' && noWait)
    return "the real-node toolchain build did not finish within the test run's time budget (it goes on in the background and is cached for the next run)";
  return undefined;
}

export function describeRealNodes(): ReturnType<typeof describeIf> {
  // scripts/test.sh sets NEONVM_REAL_NODES_SKIP (the reason) when too little of CI's time is left.
  const reason =
    process.env.NEONVM_REAL_NODES_SKIP ||
    realNodeSkipReason(
      process.getuid?.() === 0,
      nodeToolchainAvailability(),
      process.env.NEONVM_NODE_TOOLCHAIN_NO_WAIT === '1',
    );
  return describeIf(reason === undefined, reason ?? '');
}
