/** `neonvm image build` (upstream vm-builder without Docker): images and root filesystems → VM root disks. */
export * from './image-spec';
export * from './spec-file';
export * from './passwd';
export * from './guest-config';
export * from './disk-size';
export * from './tree-usage';
export * from './rootfs-source';
export * from './guest-overlay';
export * from './ext4-disk';
export * from './vm-disk-store';
export * from './disk-image';
export * from './build';
export * from './root-disk-image';
