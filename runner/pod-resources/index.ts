/**
 * What the runner creates and reads in its pod, executing runner/plan's plans with host tools: disk
 * images, the guest network (bridge, tap, NAT, dnsmasq), QEMU's CPU cgroup, iptables byte counters.
 */
export * from './cpu-cgroup';
export * from './disk-builder';
export * from './network-counters';
export * from './network-setup';
