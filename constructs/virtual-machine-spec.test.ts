import { Duration } from 'cdk8s';
import { buildVirtualMachineSpec, envVars, guestPort } from './virtual-machine-spec';

const none = { env: [], ports: [], disks: [] };

describe('buildVirtualMachineSpec', () => {
  test('writes only what was given (no defaults, no undefined members)', () => {
    const spec = buildVirtualMachineSpec({ rootDisk: { image: 'img' } }, none);
    expect(spec).toEqual({ guest: { rootDisk: { image: 'img' } } });
    expect(JSON.stringify(spec)).not.toContain('null');
  });

  test('maps readable props to API fields', () => {
    const spec = buildVirtualMachineSpec(
      {
        rootDisk: { image: 'img', size: '8Gi', imagePullPolicy: 'Always' },
        cpus: { min: 0.5, max: 2, use: '1' },
        memory: { slotSize: '512Mi', min: 1, max: 4, use: 2 },
        enableSsh: false,
        enableAcceleration: false,
        terminationGracePeriod: Duration.minutes(1),
        sysctl: ['a=b'],
        swap: '1Gi',
        kernelImage: 'kernel:1',
        appendKernelCmdline: 'quiet',
        runnerImage: 'runner:2',
        nodeSelector: { zone: 'a' },
      },
      none,
    );
    expect(spec).toEqual({
      terminationGracePeriodSeconds: 60,
      nodeSelector: { zone: 'a' },
      guest: {
        kernelImage: 'kernel:1',
        appendKernelCmdline: 'quiet',
        cpus: { min: 0.5, max: 2, use: '1' },
        memorySlotSize: '512Mi',
        memorySlots: { min: 1, max: 4, use: 2 },
        rootDisk: { image: 'img', size: '8Gi', imagePullPolicy: 'Always' },
        settings: { sysctl: ['a=b'], swap: '1Gi' },
      },
      enableAcceleration: false,
      runnerImage: 'runner:2',
      enableSSH: false,
    });
  });

  test('overrides fill the rest; readable props and accumulated extras win or append', () => {
    const spec = buildVirtualMachineSpec(
      {
        rootDisk: { image: 'img' },
        restartPolicy: 'Never',
        spec: {
          restartPolicy: 'Always',
          schedulerName: 's',
          guest: { env: [{ name: 'A', value: '1' }], settings: { swap: '2Gi' } },
        },
      },
      { ...none, env: envVars({ B: '2' }), ports: [guestPort({ port: 80 })] },
    );
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.schedulerName).toBe('s');
    expect(spec.guest.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(spec.guest.ports).toEqual([{ port: 80 }]);
    expect(spec.guest.settings).toEqual({ swap: '2Gi' });
  });
});
