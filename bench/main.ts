/**
 * `npm run bench`: runs every benchmark module and prints one table per module, each row with its
 * baseline measured in the same run. Modules that need toolchains (cluster, QEMU, Pulumi) report
 * what they could not run instead of failing the whole run. `npm run bench -- crds iac` runs a subset.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { renderTable, type BenchModule, type BenchRow } from './table';

const MODULES = [
  'crds',
  'iac',
  'pki',
  'cluster',
  'real-node',
  'runner',
  'runner-migration',
  'operator',
  'image',
  'release',
  'e2e',
] as const;

async function load(name: string): Promise<BenchModule | undefined> {
  if (!existsSync(join(__dirname, `${name}.ts`)) && !existsSync(join(__dirname, `${name}.js`)))
    return undefined;
  const mod = (await import(`./${name}`)) as { default?: BenchModule } & Record<string, unknown>;
  if (typeof mod.default === 'function') return mod.default;
  const fn = Object.values(mod).find(
    (v): v is BenchModule => typeof v === 'function' && /^bench/i.test((v as { name: string }).name),
  );
  return fn;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const selected = wanted.length ? MODULES.filter((m) => wanted.includes(m)) : [...MODULES];
  console.log(
    `# neonvm benchmarks (${new Date().toISOString()}, ${process.version}, ${cpus().length} cores)\n`,
  );
  let failed = 0;
  for (const name of selected) {
    const fn = await load(name);
    if (!fn) {
      console.log(`### ${name}\n(not available in this checkout)\n`);
      continue;
    }
    const t0 = Date.now();
    try {
      const rows: BenchRow[] = await fn();
      console.log(`${renderTable(name, rows)}\n(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    } catch (err) {
      failed += 1;
      console.log(`### ${name}\nFAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
