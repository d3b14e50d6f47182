import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseManifests, serializeManifests, canonicalObject, ManifestParseError } from './codec';
import { defaultIpPool, defaultVirtualMachine, defaultVirtualMachineMigration } from './defaults';
import { validateObject } from './validate-object';
import { encodeGzipBase64, decodeGzipBase64 } from './encoding';
import type { VirtualMachine } from './schema/virtual-machine';
import type { VirtualMachineMigration } from './schema/virtual-machine-migration';
import type { IpPool } from './schema/ip-pool';

const root = join(__dirname, '..');
const examplesDir = join(root, 'examples');
const goldenDir = join(root, 'test', 'fixtures', 'golden');
const upstreamDir = join(root, 'test', 'fixtures', 'upstream');
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

function applyDefaults(o: Record<string, unknown>): unknown {
  switch (o.kind) {
    case 'VirtualMachine':
      return defaultVirtualMachine(o as unknown as VirtualMachine);
    case 'VirtualMachineMigration':
      return defaultVirtualMachineMigration(o as unknown as VirtualMachineMigration);
    case 'IPPool':
      return defaultIpPool(o as unknown as IpPool);
    default:
      return o;
  }
}

/** parse → default → validate → serialize, the pipeline every tool of ours runs. */
function pipeline(text: string, source: string): string {
  const objects = parseManifests(text, source);
  for (const o of objects) {
    if (String(o.apiVersion).startsWith('vm.neon.tech/'))
      expect({ source, errors: validateObject(o) }).toEqual({ source, errors: [] });
  }
  return serializeManifests(objects.map(applyDefaults));
}

describe('round trip: parse → default → validate → serialize', () => {
  it.each(yamlFiles(examplesDir))('examples/%s matches its golden file', (file) => {
    const out = pipeline(readFileSync(join(examplesDir, file), 'utf8'), file);
    const golden = join(goldenDir, file);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, out);
    expect(out).toBe(readFileSync(golden, 'utf8'));
  });

  it.each(yamlFiles(goldenDir))('golden %s is a fixed point (byte-identical)', (file) => {
    const text = readFileSync(join(goldenDir, file), 'utf8');
    expect(pipeline(text, file)).toBe(text);
  });

  it.each(yamlFiles(upstreamDir))('upstream-encoded %s round-trips byte-identically', (file) => {
    const text = readFileSync(join(upstreamDir, file), 'utf8');
    expect(pipeline(text, file)).toBe(text);
  });

  it('rewrites non-canonical encodings the way the Go types do', () => {
    const [vm] = parseManifests(
      'apiVersion: vm.neon.tech/v1\nkind: VirtualMachine\nmetadata: {name: x}\nspec:\n  guest:\n    cpus: {min: 0.25, max: "2", use: 1.0}\n    memorySlotSize: 1024Mi\n    rootDisk: {image: img}\n',
    );
    const c = canonicalObject(vm) as unknown as VirtualMachine;
    expect(c.spec.guest.cpus).toEqual({ min: '250m', max: 2, use: 1 });
    expect(c.spec.guest.memorySlotSize).toBe('1Gi');
  });

  it('orders keys as the Go structs declare them', () => {
    const [vm] = parseManifests(
      'spec: {guest: {rootDisk: {image: i}}, enableSSH: true, qmp: 1}\nkind: VirtualMachine\napiVersion: vm.neon.tech/v1\nmetadata: {name: x}\n',
    );
    expect(Object.keys(canonicalObject(vm))).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys((canonicalObject(vm) as unknown as VirtualMachine).spec)).toEqual([
      'qmp',
      'guest',
      'enableSSH',
    ]);
  });

  it('leaves other kinds untouched', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', data: { b: '1', a: '2' } };
    expect(canonicalObject(cm)).toBe(cm);
  });

  it('reports YAML errors with the source name', () => {
    expect(() => parseManifests('a: [1,', 'bad.yaml')).toThrow(ManifestParseError);
    expect(() => parseManifests('- 1\n- 2\n', 'list.yaml')).toThrow(
      /list\.yaml: document 1 is not an object/,
    );
  });
});

describe('runner flag encoding (gzip + base64 JSON)', () => {
  it('round-trips and is standard padded base64', () => {
    const spec = defaultVirtualMachine({ spec: { guest: { rootDisk: { image: 'x' } } } }).spec;
    const encoded = encodeGzipBase64(spec);
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeGzipBase64(encoded)).toEqual(spec);
  });
});

it('golden files exist for every example', () => {
  expect(yamlFiles(goldenDir).map((f) => basename(f))).toEqual(
    expect.arrayContaining(yamlFiles(examplesDir)),
  );
});
