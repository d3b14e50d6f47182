/**
 * The VXLAN controller: the node part of the overlay network (bridge `neon-br0`, VXLAN `neon-vxlan0`,
 * a tunnel to every other node, the NEON-EXTRANET nat chain), run by a DaemonSet on every node.
 */
export * from './config';
export * from './fdb';
export * from './links';
export * from './nat-rules';
export * from './network-tools';
export * from './peers';
export * from './reconcile';
export * from './settings';
export * from './vxlan-controller';
