/**
 * Which construct prop a `crds` field path comes from, so a synth error names what the user wrote
 * (`rootDisk.size`) next to the wire path the API server would print (`spec.guest.rootDisk.size`).
 * Pure; the mapping mirrors buildVirtualMachineSpec (virtual-machine-spec.ts).
 */
type Rule = readonly [RegExp, (m: RegExpExecArray) => string];

const VM_RULES: readonly Rule[] = [
  [/^metadata(.*)$/, (m) => `metadata${m[1]}`],
  [/^spec\.guest\.cpus(.*)$/, (m) => `cpus${m[1]}`],
  [/^spec\.guest\.memorySlots\.(min|max|use)$/, (m) => `memory.${m[1]}`],
  [/^spec\.guest\.memorySlotSize$/, () => 'memory.slotSize'],
  [/^spec\.guest\.rootDisk(.*)$/, (m) => `rootDisk${m[1]}`],
  [/^spec\.guest\.(command|args|kernelImage|appendKernelCmdline)(.*)$/, (m) => `${m[1]}${m[2]}`],
  [/^spec\.guest\.env(\[\d+\])?(.*)$/, () => 'env, addEnv'],
  [/^spec\.guest\.ports(.*)$/, (m) => `ports${m[1]}, addPort, exposeViaService`],
  [/^spec\.guest\.settings\.swap$/, () => 'swap'],
  [/^spec\.guest\.settings\.sysctl(.*)$/, (m) => `sysctl${m[1]}`],
  [/^spec\.disks(.*)$/, (m) => `disks${m[1]}, addDisk`],
  [/^spec\.extraNetwork(.*)$/, () => 'extraNetwork'],
  [/^spec\.enableSSH$/, () => 'enableSsh'],
  [/^spec\.terminationGracePeriodSeconds$/, () => 'terminationGracePeriod'],
  [
    /^spec\.(cpuScalingMode|targetArchitecture|restartPolicy|nodeSelector|podResources|runnerImage|tls|enableAcceleration)(.*)$/,
    (m) => `${m[1]}${m[2]}`,
  ],
  [/^spec\.(.+)$/, (m) => `spec.${m[1]}`],
];

/** The `VirtualMachine` construct prop behind a field path, or undefined for paths outside the props. */
export function virtualMachinePropPath(path: string): string | undefined {
  for (const [re, name] of VM_RULES) {
    const m = re.exec(path);
    if (m) return name(m);
  }
  return undefined;
}
