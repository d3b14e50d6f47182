import * as pulumi from '@pulumi/pulumi';
import { VirtualMachine } from '.';

// An `up` (not a preview) against a mock cluster where the operator has set the status.
pulumi.runtime.setMocks(
  {
    newResource: (args) => ({
      id: `${args.name}-id`,
      state:
        args.type === 'kubernetes:vm.neon.tech/v1:VirtualMachine'
          ? {
              ...args.inputs,
              status: {
                phase: 'Running',
                podName: 'example-x7k2p',
                node: 'node-1',
                podIP: '10.0.0.7',
                extraNetIP: '10.100.128.1',
              },
            }
          : args.inputs,
    }),
    call: (args) => args.inputs,
  },
  'neonvm-test',
  'unit',
  false,
);

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

test('outputs come from the CustomResource status', async () => {
  const vm = new VirtualMachine('example', {
    metadata: { name: 'example' },
    rootDisk: { image: 'img' },
    liveObjectReader: false,
  });
  expect(await valueOf(vm.phase)).toBe('Running');
  expect(await valueOf(vm.podName)).toBe('example-x7k2p');
  expect(await valueOf(vm.node)).toBe('node-1');
  expect(await valueOf(vm.ip)).toBe('10.0.0.7');
  expect(await valueOf(vm.extraNetIp)).toBe('10.100.128.1');
});
