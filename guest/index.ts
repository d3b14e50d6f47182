export { GUEST_ARCHES, archInfo, hostGuestArch } from './arch';
export type { ArchInfo, GuestArch } from './arch';
export { ensureGuestArtifacts, guestArtifactsDir, guestVersion, kernelHz } from './artifacts';
export type { EnsureGuestOptions, GuestArtifacts } from './artifacts';
export { ARTIFACT_FILES, ROOT_DISK_SIZE_MIB } from './build';
export type { BuildManifest } from './build';
export {
  GUEST_AGENT_PORT,
  GUEST_LINK_IP,
  GUEST_READY_LINE,
  IMAGE_CONFIG_FILES,
  RUNTIME_FILES,
  RUNTIME_ISO_LABEL,
  SSH_ISO_LABEL,
  WORKLOAD_PID_FILE,
} from './guest-scripts';
export { GUEST_COMPAT_LINKS } from './rootfs-layout';
