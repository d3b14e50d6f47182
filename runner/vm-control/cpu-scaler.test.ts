import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../host';
import { defaultedSpec } from '../../crds/testing';
import { vmShape } from '../plan/vm-shape';
import type { HotpluggableCpu } from '../qmp';
import { useFakeQmp } from '../qmp/testing/use-fake-qmp';
import { CpuScaler } from './cpu-scaler';
import { GuestAgent } from './guest-agent';

/** QEMU's slots for cores 0..3 (highest first, as QEMU lists them), `plugged` ones with a device. */
const slots = (plugged: ReadonlySet<number>): HotpluggableCpu[] =>
  [3, 2, 1, 0].map((core) => ({
    type: 'max-x86_64-cpu',
    'vcpus-count': 1,
    props: { 'socket-id': 0, 'core-id': core, 'thread-id': 0 },
    'qom-path': plugged.has(core) ? `/machine/peripheral/cpu${core}` : undefined,
  }));

describe('CpuScaler plugs (against a fake QMP server)', () => {
  let plugged: Set<number>;
  let failNextPlug: boolean;
  const fake = useFakeQmp((server) => {
    plugged = new Set([0]);
    failNextPlug = false;
    server.handle('query-hotpluggable-cpus', () => ({ return: slots(plugged) }));
    server.handle('device_add', (args) => {
      if (failNextPlug) {
        failNextPlug = false;
        return { error: { class: 'GenericError', desc: 'Duplicate device ID' } };
      }
      plugged.add(args['core-id'] as number);
      return { return: {} };
    });
  });

  const scaler = () =>
    new CpuScaler(
      fake.qmp,
      new GuestAgent('http://127.0.0.1:9', 'token'), // plugging never asks the guest
      vmShape(defaultedSpec({ cpus: { min: 1, max: 4, use: 1 } })),
    );
  const sent = () => fake.server.received.map((r) => r.execute).filter((c) => c !== 'qmp_capabilities');

  it('reads the slots once, at the boot plug; later plugs are one device_add each', async () => {
    const cpu = scaler();
    await cpu.ensurePlugged(1); // boot: nothing to plug, but the slots are read
    await cpu.ensurePlugged(2);
    await cpu.ensurePlugged(3);
    await cpu.ensurePlugged(3); // already there: nothing sent
    expect(sent()).toEqual(['query-hotpluggable-cpus', 'device_add', 'device_add']);
    expect(
      fake.server.received.filter((r) => r.execute === 'device_add').map((r) => r.arguments?.id),
    ).toEqual(['cpu1', 'cpu2']);
    expect(await cpu.pluggedCount()).toBe(3); // migration answers ask QEMU
  });

  it('a failed device_add makes the next plug read QEMU again', async () => {
    const cpu = scaler();
    await cpu.ensurePlugged(1);
    plugged.add(1); // someone plugged core 1 on the manual QMP socket
    failNextPlug = true;
    await expect(cpu.ensurePlugged(2)).rejects.toThrow(/Duplicate device ID/);
    await cpu.ensurePlugged(3);
    expect(sent()).toEqual([
      'query-hotpluggable-cpus',
      'device_add',
      'query-hotpluggable-cpus',
      'device_add',
    ]);
    expect(fake.server.received.at(-1)?.arguments?.id).toBe('cpu2');
  });

  it('retries a PUT /cpu that came too early when the guest acknowledges the vCPU, not a poll interval later', async () => {
    // The agent: PUT /cpu fails until the guest has added the new vCPU, as neonvmd does.
    const puts: number[] = [];
    let cpuAdded = false;
    const agent: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        puts.push(Date.now());
        res.statusCode = cpuAdded ? 200 : 500;
        res.end(cpuAdded ? '' : 'cannot online 1 more CPUs: only 0 offline CPUs present');
      });
    });
    await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
    try {
      const clock = new FakeClock(); // never advanced: only the acknowledgement can bring the retry
      const cpu = new CpuScaler(
        fake.qmp,
        new GuestAgent(`http://127.0.0.1:${(agent.address() as AddressInfo).port}`, 'token'),
        vmShape(defaultedSpec({ cpus: { min: 1, max: 4, use: 1 } })),
        clock,
      );
      await cpu.ensurePlugged(1);
      const set = cpu.set(2000);
      while (puts.length === 0 || clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
      expect(puts).toHaveLength(1); // failed, waiting
      cpuAdded = true;
      // QEMU 7.2's event when the guest has processed the insertion (ACPI _OST).
      fake.server.emitEvent('ACPI_DEVICE_OST', {
        info: { device: 'cpu1', slot: '1', 'slot-type': 'CPU', source: 1, status: 0 },
      });
      await set;
      expect(puts).toHaveLength(2);
      expect(cpu.currentMilli).toBe(2000);
      expect(sent()).toEqual(['query-hotpluggable-cpus', 'device_add']);
    } finally {
      await new Promise((r) => agent.close(r));
    }
  });
});
