import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { IpBatchProcess } from './ip-batch-process';
import { parseNetnsList } from './ip-command';

const namespaces = () => parseNetnsList(execFileSync('ip', ['netns', 'list']).toString());

describe('IpBatchProcess', () => {
  it('runs requests in one process, reports only the failed commands, and goes on after a failure', async () => {
    const ip = new IpBatchProcess();
    const ns = `nvmtest-${randomBytes(3).toString('hex')}`;
    try {
      // Pipelined: both requests are written before either is answered.
      const [created, again] = await Promise.all([ip.run([`netns add ${ns}`]), ip.run([`netns add ${ns}`])]);
      expect(created).toEqual([]);
      expect(again).toEqual([{ command: `netns add ${ns}`, message: expect.stringContaining('exists') }]);
      expect(namespaces()).toContain(ns);

      const mixed = await ip.run(['link del nvmtest-none', `netns del ${ns}`]);
      expect(mixed.map((f) => f.command)).toEqual(['link del nvmtest-none']);
      expect(namespaces()).not.toContain(ns);
    } finally {
      ip.close();
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // removed by the test
      }
    }
  });
});
