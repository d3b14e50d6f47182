/**
 * Interoperability with the reference tools: umoci unpacks our layouts to the same tree we do,
 * skopeo reads our layouts and docker-save archives, and we read skopeo's legacy docker-save format
 * (`<hex>.json` config, `<hex>.tar` layers) with diff_id verification.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDockerArchive } from './docker-archive';
import { openImage, unpackImage } from './image-reader';
import { ImageInput, writeImageLayout } from './layout-writer';
import { runConfigOf } from './run-config';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'oci-interop-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const image: ImageInput = {
  platform: { os: 'linux', architecture: 'amd64' },
  layers: [
    [
      { kind: 'file', path: 'etc/hello', content: 'hello\n' },
      { kind: 'file', path: 'opt/app/old', content: 'old' },
      { kind: 'symlink', path: 'lib', target: 'usr/lib' },
      { kind: 'file', path: 'usr/lib/libx.so', content: 'x', mode: 0o755 },
      { kind: 'hardlink', path: 'usr/lib/liby.so', target: 'usr/lib/libx.so' },
    ],
    [
      { kind: 'file', path: 'etc/.wh.hello', content: '' },
      { kind: 'file', path: 'opt/app/.wh..wh..opq', content: '' },
      { kind: 'file', path: 'opt/app/new', content: 'new' },
      { kind: 'dir', path: 'var/empty', mode: 0o711 },
    ],
  ],
  config: {
    Entrypoint: ['/bin/app'],
    Cmd: ['--flag'],
    Env: ['A=1'],
    WorkingDir: '/opt/app',
    User: '1000:1000',
  },
  refName: 'v1',
};

/** path → kind/mode/target, for comparing two trees. */
function describeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      if (st.isSymbolicLink()) out.push(`${p} -> ${readlinkSync(join(root, p))}`);
      else out.push(`${p} ${st.isDirectory() ? 'dir' : `file ${st.size}`} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

it('umoci unpacks our layout to the same tree as our reader', async () => {
  await writeImageLayout(join(work, 'layout'), [image]);
  execFileSync(
    'umoci',
    ['unpack', '--rootless', '--image', `${join(work, 'layout')}:v1`, join(work, 'bundle')],
    { stdio: 'pipe' },
  );
  const img = await openImage(join(work, 'layout'));
  await unpackImage(img, join(work, 'ours'));
  expect(describeTree(join(work, 'ours'))).toEqual(describeTree(join(work, 'bundle/rootfs')));
});

it('skopeo reads our layout and our docker-save archive', async () => {
  await writeDockerArchive(join(work, 'layout'), join(work, 'ours.tar'), { repoTags: [['example/app:v1']] });
  const fromLayout = JSON.parse(
    execFileSync('skopeo', ['inspect', `oci:${join(work, 'layout')}:v1`]).toString(),
  ) as {
    Architecture: string;
    Env: string[];
    Layers: string[];
  };
  expect(fromLayout).toMatchObject({ Architecture: 'amd64', Env: ['A=1'] });
  expect(fromLayout.Layers).toHaveLength(2);
  const fromArchive = JSON.parse(
    execFileSync('skopeo', ['inspect', `docker-archive:${join(work, 'ours.tar')}`]).toString(),
  ) as {
    Layers: string[];
  };
  expect(fromArchive.Layers).toHaveLength(2);
});

it("reads skopeo's legacy docker-save archives", async () => {
  execFileSync('skopeo', [
    'copy',
    '-q',
    `oci:${join(work, 'layout')}:v1`,
    `docker-archive:${join(work, 'legacy.tar')}:example/app:v1`,
  ]);
  const img = await openImage(join(work, 'legacy.tar'), { tmpDir: work });
  try {
    expect(img.format).toBe('docker-archive');
    expect(img.refNames).toEqual(['docker.io/example/app:v1']);
    expect(runConfigOf(img.config).entrypoint).toEqual(['/bin/app']);
    await unpackImage(img, join(work, 'legacy-root'));
  } finally {
    await img.close();
  }
  expect(describeTree(join(work, 'legacy-root'))).toEqual(describeTree(join(work, 'ours')));
});
