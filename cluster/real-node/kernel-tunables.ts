/**
 * The kubelet sets six kernel tunables on start (pkg/kubelet/cm/container_manager_linux.go,
 * setupKernelTunables, v1.37.2): with protectKernelDefaults false it writes them, with true it refuses to
 * start when they differ. Writing them would change the shared machine for everyone (kernel.panic_on_oops=1
 * turns any oops into a reboot; vm.overcommit_memory=1 changes every process's allocations), and a test
 * node must not do that. So the node's mount namespace shows the kubelet a file with the value it wants
 * over each /proc/sys entry that differs (bind mounts, invisible outside the namespace); containers get
 * their own /proc from runc and see the host's real values. Pure.
 */

/** /proc/sys path → the value the kubelet wants (k8s.io/component-helpers/node/util/sysctl). */
export const KUBELET_KERNEL_TUNABLES: Readonly<Record<string, number>> = {
  'vm/overcommit_memory': 1,
  'vm/panic_on_oom': 0,
  'kernel/panic': 10,
  'kernel/panic_on_oops': 1,
  'kernel/keys/root_maxkeys': 1000000,
  'kernel/keys/root_maxbytes': 25000000,
};

/** The tunables whose current value (read by `read`) differs from the kubelet's, with its value. */
export function tunablesToMask(read: (path: string) => string): { path: string; value: number }[] {
  return Object.entries(KUBELET_KERNEL_TUNABLES)
    .filter(([path, value]) => Number.parseInt(read(path).trim(), 10) !== value)
    .map(([path, value]) => ({ path, value }));
}
