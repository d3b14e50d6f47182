/**
 * The reader against layouts written in the test: round trips, determinism, and every kind of bad
 * input failing with its error code and leaving nothing behind.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { blobRelPath } from './digest';
import { writeDockerArchive } from './docker-archive';
import { OciErrorCode, isOciError } from './errors';
import { openImage, unpackImage, OpenImageOptions, UnpackOptions } from './image-reader';
import { ImageInput, writeImageLayout } from './layout-writer';
import { MEDIA_TYPES } from './media-types';
import { runConfigOf } from './run-config';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'oci-test-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const image: ImageInput = {
  platform: { os: 'linux', architecture: 'amd64' },
  layers: [
    [
      { kind: 'file', path: 'etc/hello', content: 'hello\n' },
      { kind: 'file', path: 'opt/app/old', content: 'old' },
      { kind: 'symlink', path: 'bin', target: 'usr/bin' },
      { kind: 'file', path: 'usr/bin/tool', content: '#!/bin/sh\n', mode: 0o755 },
      { kind: 'hardlink', path: 'usr/bin/tool2', target: 'usr/bin/tool' },
    ],
    [
      { kind: 'file', path: 'etc/.wh.hello', content: '' },
      { kind: 'file', path: 'opt/app/.wh..wh..opq', content: '' },
      { kind: 'file', path: 'opt/app/new', content: 'new' },
    ],
  ],
  config: {
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo $GREETING'],
    Env: ['GREETING=hi', 'A=1', 'A=2'],
    WorkingDir: '/opt',
    User: 'nobody',
  },
  refName: 'v1',
};

async function unpack(
  src: string,
  opts: OpenImageOptions = {},
  unpackOpts: UnpackOptions = {},
): Promise<string> {
  const img = await openImage(src, { tmpDir: work, ...opts });
  const dest = join(work, 'rootfs');
  try {
    await unpackImage(img, dest, unpackOpts);
  } finally {
    await img.close();
  }
  return dest;
}

async function expectCode(p: Promise<unknown>, code: OciErrorCode, message?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isOciError(e) ? e.code : e).toBe(code);
  if (message) expect((e as Error).message).toMatch(message);
}

/** A layout with hand-made blobs (for inputs the writer would never produce). */
function rawLayout(
  dir: string,
  layers: Buffer[],
  opts: { diffIds?: string[]; architecture?: string } = {},
): void {
  const put = (b: Buffer | string) => {
    const digest = sha(b);
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(dir, blobRelPath(digest)), b);
    return { digest, size: Buffer.byteLength(b) };
  };
  const config = JSON.stringify({
    architecture: opts.architecture ?? 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: opts.diffIds ?? layers.map((l) => sha(l)) },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, ...put(config) },
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayer, ...put(l) })),
  });
  const m = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, ...m }] }),
  );
}

async function tarOf(
  entries: Array<{ name: string; type?: tar.Header['type']; content?: string; linkname?: string }>,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries)
    pack.entry(
      { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mtime: new Date(0) },
      e.content ?? '',
    );
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('OCI layout round trip', () => {
  it('applies layers in order with whiteouts, opaque dirs, symlinks and hard links', async () => {
    await writeImageLayout(join(work, 'layout'), [image]);
    const root = await unpack(join(work, 'layout'));
    expect(existsSync(join(root, 'etc/hello'))).toBe(false);
    expect(existsSync(join(root, 'etc'))).toBe(true);
    expect(readdirSync(join(root, 'opt/app'))).toEqual(['new']);
    expect(lstatSync(join(root, 'bin')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(root, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(root, 'usr/bin/tool')).ino).toBe(lstatSync(join(root, 'usr/bin/tool2')).ino);
  });

  it('reads the run config with docker-run defaults', async () => {
    await writeImageLayout(join(work, 'layout'), [image]);
    const img = await openImage(join(work, 'layout'));
    expect(runConfigOf(img.config)).toEqual({
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['echo $GREETING'],
      env: { GREETING: 'hi', A: '2' },
      workingDir: '/opt',
      user: 'nobody',
    });
    expect(img.refNames).toEqual(['v1']);
  });

  it('is deterministic: the same inputs give the same digests', async () => {
    const a = await writeImageLayout(join(work, 'a'), [image]);
    const b = await writeImageLayout(join(work, 'b'), [image]);
    expect(a.images[0].manifest.digest).toBe(b.images[0].manifest.digest);
    expect(readFileSync(join(work, 'a/index.json'))).toEqual(readFileSync(join(work, 'b/index.json')));
    const layer = readFileSync(join(work, 'a', blobRelPath(a.images[0].layers[0].digest)));
    expect(layer.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])); // no name, mtime 0
  });

  it('selects the platform of a multi-arch layout', async () => {
    const arm: ImageInput = {
      ...image,
      platform: { os: 'linux', architecture: 'arm64' },
      config: { Cmd: ['arm'] },
    };
    await writeImageLayout(join(work, 'multi'), [image, arm]);
    const img = await openImage(join(work, 'multi'), { platform: { os: 'linux', architecture: 'arm64' } });
    expect(img.config.config?.Cmd).toEqual(['arm']);
    expect(img.platform.architecture).toBe('arm64');
  });

  it('reads its docker-save archive back', async () => {
    await writeImageLayout(join(work, 'layout'), [image]);
    await writeDockerArchive(join(work, 'layout'), join(work, 'img.tar'), { repoTags: [['example/img:v1']] });
    const root = await unpack(join(work, 'img.tar'));
    expect(readdirSync(join(root, 'opt/app'))).toEqual(['new']);
    expect(readdirSync(work).filter((n) => n.startsWith('neonvm-oci-'))).toEqual([]); // temp dir removed
  });

  it('reads a gzip-compressed docker-save archive (docker save | gzip)', async () => {
    await writeImageLayout(join(work, 'layout'), [image]);
    await writeDockerArchive(join(work, 'layout'), join(work, 'img.tar'), { repoTags: [['example/img:v1']] });
    writeFileSync(join(work, 'img.tar.gz'), gzipSync(readFileSync(join(work, 'img.tar'))));
    const root = await unpack(join(work, 'img.tar.gz'));
    expect(readdirSync(join(root, 'opt/app'))).toEqual(['new']);
  });

  it('skips device nodes in layers (no mknod without privileges) and reports them', async () => {
    const layer = await tarOf([
      { name: 'dev/null', type: 'character-device' },
      { name: 'etc/ok', content: 'ok' },
    ]);
    rawLayout(join(work, 'layout'), [layer]);
    const img = await openImage(join(work, 'layout'));
    const result = await unpackImage(img, join(work, 'rootfs'));
    expect(result.layers[0].skipped).toEqual(['dev/null (character-device)']);
    expect(readFileSync(join(work, 'rootfs/etc/ok'), 'utf8')).toBe('ok');
  });

  it('keeps writes inside the root when a layer symlink points outside', async () => {
    const layer1 = await tarOf([{ name: 'etc', type: 'symlink', linkname: '/outside' }]);
    const layer2 = await tarOf([{ name: 'etc/passwd', content: 'x' }]);
    rawLayout(join(work, 'layout'), [layer1, layer2]);
    const root = await unpack(join(work, 'layout'));
    expect(readFileSync(join(root, 'outside/passwd'), 'utf8')).toBe('x');
    expect(existsSync('/outside')).toBe(false);
  });
});

describe('whiteout edge cases', () => {
  it('an opaque marker after the new entries keeps them and drops only lower content', async () => {
    const lower = await tarOf([
      { name: 'd/', type: 'directory' },
      { name: 'd/old', content: 'old' },
      { name: 'd/sub/', type: 'directory' },
      { name: 'd/sub/deep', content: 'deep' },
    ]);
    const upper = await tarOf([
      { name: 'd/new', content: 'new' },
      { name: 'd/sub/', type: 'directory' },
      { name: 'd/sub/kept', content: 'kept' },
      { name: 'd/.wh..wh..opq' },
    ]);
    rawLayout(join(work, 'layout'), [lower, upper]);
    const root = await unpack(join(work, 'layout'));
    expect(readdirSync(join(root, 'd')).sort()).toEqual(['new', 'sub']);
    expect(readdirSync(join(root, 'd/sub'))).toEqual(['kept']);
  });

  it('a whiteout removes a whole directory tree, and a whiteout through a symlinked parent stays inside', async () => {
    const lower = await tarOf([
      { name: 'usr/lib/x/', type: 'directory' },
      { name: 'usr/lib/x/y', content: 'y' },
      { name: 'lib', type: 'symlink', linkname: '/usr/lib' },
    ]);
    const upper = await tarOf([{ name: 'lib/.wh.x' }]);
    rawLayout(join(work, 'layout'), [lower, upper]);
    const root = await unpack(join(work, 'layout'));
    expect(readdirSync(join(root, 'usr/lib'))).toEqual([]);
    expect(lstatSync(join(root, 'lib')).isSymbolicLink()).toBe(true);
  });

  it('a file replaces a directory of a lower layer and vice versa', async () => {
    const lower = await tarOf([
      { name: 'a/', type: 'directory' },
      { name: 'a/f', content: 'f' },
      { name: 'b', content: 'b' },
    ]);
    const upper = await tarOf([
      { name: 'a', content: 'now a file' },
      { name: 'b/', type: 'directory' },
    ]);
    rawLayout(join(work, 'layout'), [lower, upper]);
    const root = await unpack(join(work, 'layout'));
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('now a file');
    expect(lstatSync(join(root, 'b')).isDirectory()).toBe(true);
  });
});

describe('bad input fails cleanly', () => {
  it('missing layout', async () => {
    await expectCode(openImage(join(work, 'nope')), 'missing-layout', /does not exist/);
    mkdirSync(join(work, 'empty'));
    await expectCode(openImage(join(work, 'empty')), 'missing-layout', /not an OCI image layout/);
  });

  it('digest mismatch in a layer blob', async () => {
    const w = await writeImageLayout(join(work, 'layout'), [image]);
    const blob = join(work, 'layout', blobRelPath(w.images[0].layers[1].digest));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(blob, bytes);
    await expectCode(unpack(join(work, 'layout')), 'digest-mismatch', /layer 2\/2.*hashes to/);
  });

  it('digest mismatch in the config', async () => {
    const w = await writeImageLayout(join(work, 'layout'), [image]);
    writeFileSync(join(work, 'layout', blobRelPath(w.images[0].configDigest)), '{}');
    await expectCode(openImage(join(work, 'layout')), 'digest-mismatch', /image config/);
  });

  it('diff_id mismatch', async () => {
    const layer = await tarOf([{ name: 'a', content: 'a' }]);
    rawLayout(join(work, 'layout'), [layer], { diffIds: [sha('something else')] });
    await expectCode(unpack(join(work, 'layout')), 'digest-mismatch', /diff_id/);
  });

  it('missing blob', async () => {
    const w = await writeImageLayout(join(work, 'layout'), [image]);
    rmSync(join(work, 'layout', blobRelPath(w.images[0].layers[0].digest)));
    await expectCode(unpack(join(work, 'layout')), 'missing-blob', /layer 1\/2/);
  });

  it('corrupt layer (not gzip/tar although the digest matches)', async () => {
    rawLayout(join(work, 'layout'), [
      gzipSync(Buffer.from('definitely not a tar archive, but long enough')).subarray(0, 30),
    ]);
    await expectCode(unpack(join(work, 'layout')), 'corrupt-layer');
  });

  it.each([['../evil'], ['a/../../evil'], ['etc/.wh..']])('unsafe entry name %s', async (name) => {
    rawLayout(join(work, 'layout'), [await tarOf([{ name, content: 'x' }])]);
    await expectCode(unpack(join(work, 'layout')), 'unsafe-path');
    expect(existsSync(join(work, 'evil'))).toBe(false);
  });

  it('unsupported architecture', async () => {
    rawLayout(join(work, 'layout'), [await tarOf([{ name: 'a' }])], { architecture: 's390x' });
    await expectCode(
      openImage(join(work, 'layout'), { platform: { os: 'linux', architecture: 'amd64' } }),
      'unsupported-architecture',
      /linux\/s390x, not the requested linux\/amd64/,
    );
  });

  it('size limit', async () => {
    rawLayout(join(work, 'layout'), [await tarOf([{ name: 'big', content: 'x'.repeat(4096) }])]);
    await expectCode(unpack(join(work, 'layout'), {}, { limits: { maxUnpackedBytes: 1000 } }), 'size-limit');
  });

  it('a corrupt archive leaves no temp dir', async () => {
    writeFileSync(join(work, 'bad.tar'), Buffer.concat([Buffer.from('index.json'), Buffer.alloc(600, 1)]));
    await expectCode(openImage(join(work, 'bad.tar'), { tmpDir: work }), 'missing-layout');
    expect(readdirSync(work).filter((n) => n.startsWith('neonvm-oci-'))).toEqual([]);
  });
});
