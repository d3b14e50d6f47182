import { join } from 'node:path';
import {
  checkPrerequisites,
  parseAptPrerequisites,
  prerequisitesFor,
  readAptPrerequisites,
  type CheckPrerequisitesOptions,
} from './prerequisites';

const list = readAptPrerequisites(join(__dirname, '..', '..', 'scripts', 'ci-apt-packages.txt'));

function options(over: Partial<CheckPrerequisitesOptions>): CheckPrerequisitesOptions {
  return {
    command: 'npm start',
    scope: 'start',
    prerequisites: list,
    isRoot: false,
    probe: () => true,
    install: () => Promise.resolve(),
    progress: () => undefined,
    ...over,
  };
}

test('the repository list parses; npm start needs a subset of what npm test needs', () => {
  const start = prerequisitesFor(list, 'start').map((p) => p.package);
  const all = prerequisitesFor(list, 'test').map((p) => p.package);
  expect(start).toEqual(expect.arrayContaining(['qemu-system-x86', 'debootstrap', 'iproute2', 'curl']));
  expect(start).not.toContain('lua5.1');
  expect(all).toEqual(expect.arrayContaining([...start, 'lua5.1', 'skopeo', 'umoci']));
  expect(list.find((p) => p.package === 'qemu-utils')?.probe).toBe('qemu-img');
});

test('a malformed line names its line number', () => {
  expect(() => parseAptPrerequisites('# c\nqemu-utils qemu-img later\n')).toThrow(
    /ci-apt-packages.txt:2: expected '<package> <probe> \[start\]'/,
  );
});

test('nothing missing: nothing installed', async () => {
  const install = jest.fn(() => Promise.resolve());
  expect(await checkPrerequisites(options({ isRoot: true, install }))).toEqual({ ok: true, installed: [] });
  expect(install).not.toHaveBeenCalled();
});

test('not root: one message naming every missing package and the apt-get command', async () => {
  const install = jest.fn(() => Promise.resolve());
  const r = await checkPrerequisites(
    options({ probe: (p) => !['debootstrap', 'qemu-img'].includes(p), install }),
  );
  expect(install).not.toHaveBeenCalled();
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.message).toMatch(/^npm start needs 2 Debian package\(s\) that are not installed:/);
  expect(r.message).toContain('qemu-utils');
  expect(r.message).toContain(
    'sudo apt-get update && sudo apt-get install -y --no-install-recommends qemu-utils debootstrap',
  );
});

test('root: installs exactly the missing packages with a progress line, then re-checks', async () => {
  const present = new Set(list.map((p) => p.probe).filter((p) => p !== 'lua5.1' && p !== 'gcc'));
  const lines: string[] = [];
  const installed: string[][] = [];
  const r = await checkPrerequisites(
    options({
      command: 'npm test',
      scope: 'test',
      isRoot: true,
      probe: (p) => present.has(p),
      progress: (l) => lines.push(l),
      install: (pkgs) => {
        installed.push([...pkgs]);
        present.add('lua5.1').add('gcc');
        return Promise.resolve();
      },
    }),
  );
  expect(r).toEqual({ ok: true, installed: ['gcc', 'lua5.1'] });
  expect(installed).toEqual([['gcc', 'lua5.1']]);
  expect(lines).toEqual(['==> npm test: installing 2 missing Debian package(s): gcc lua5.1']);
});

test('root: a package whose probe is still missing after apt-get is reported', async () => {
  const r = await checkPrerequisites(options({ isRoot: true, probe: (p) => p !== 'debootstrap' }));
  expect(r).toEqual({
    ok: false,
    message: 'apt-get installed debootstrap but these are still missing: debootstrap (debootstrap)',
  });
});
