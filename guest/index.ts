export { GUEST_ARCHES, archInfo, hostGuestArch } from './arch';
export type { ArchInfo, GuestArch } from './arch';
export { ensureGuestArtifacts, guestArtifactsDir, guestVersion } from './artifacts';
export type { EnsureGuestOptions, GuestArtifacts } from './artifacts';
export { ARTIFACT_FILES, ROOT_DISK_SIZE_MIB } from './build';
export type { BuildManifest } from './build';
export {
  GUEST_AGENT_PORT,
  GUEST_READY_LINE,
  RUNTIME_FILES,
  RUNTIME_ISO_LABEL,
  SSH_ISO_LABEL,
} from './guest-scripts';
export { guestKernelCmdline, hostLoopsPerJiffy } from './kernel-cmdline';
export type { KernelCmdlineOptions } from './kernel-cmdline';
export { runtimeIsoFiles, shellQuote, writeIso, writeRuntimeIso } from './runtime-iso';
export type { RuntimeConfig } from './runtime-iso';
