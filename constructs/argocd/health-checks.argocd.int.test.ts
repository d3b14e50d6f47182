/**
 * Our Lua health checks through Argo CD's own health code: `argocd-health` (built with Argo CD by
 * scripts/build-argocd.sh) hands the argocd-cm data our constructs generate to Argo CD's Lua VM
 * (gopher-lua with Argo CD's libraries) and gitops-engine's GetResourceHealth, as the application
 * controller does. Same fixtures as the lua5.1 unit tests (health-checks.test.ts); any difference
 * between the two interpreters fails here.
 *
 * Skipped, with the reason in its title, only when scripts/build-argocd.sh has not completed.
 */
import { execFileSync } from 'node:child_process';
import { findArgoCd } from '../../cluster/build';
import {
  APPLICATION_CASES,
  VIRTUAL_MACHINE_CASES,
  VIRTUAL_MACHINE_MIGRATION_CASES,
  type HealthCase,
} from './testing/health-cases';
import { describeIf } from '../../host/testing';
import { argoCdConfigMapData } from '.';

const build = findArgoCd();
const suite = describeIf(build !== undefined, 'Argo CD not built (run scripts/build-argocd.sh)');
const title = "our health checks in Argo CD's health code (gopher-lua)";

interface Result {
  readonly status?: string;
  readonly message?: string;
  readonly error?: string;
}

function argoCdHealth(cases: readonly HealthCase[]): Result[] {
  const input = JSON.stringify({
    configMapData: argoCdConfigMapData({ appOfApps: true }),
    objects: cases.map((c) => c.object),
  });
  return JSON.parse(execFileSync(build!.health, [], { input, encoding: 'utf8' })) as Result[];
}

suite(title, () => {
  describe.each([
    ['VirtualMachine', VIRTUAL_MACHINE_CASES],
    ['VirtualMachineMigration', VIRTUAL_MACHINE_MIGRATION_CASES],
    ['Application (app-of-apps)', APPLICATION_CASES],
  ] as const)('%s', (_kind, cases) => {
    // One process per kind: Argo CD's health of every fixture at once.
    let results: Result[] = [];
    beforeAll(() => {
      results = argoCdHealth(cases);
    });
    test.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
      expect(results[i]).toEqual({
        status: c.expected.status,
        ...(c.expected.message ? { message: c.expected.message } : {}),
      });
    });
  });

  test('without our argocd-cm Argo CD has no health for our kinds (the checks are what judges VMs)', () => {
    const out = JSON.parse(
      execFileSync(build!.health, [], {
        input: JSON.stringify({ configMapData: {}, objects: [VIRTUAL_MACHINE_CASES[0].object] }),
        encoding: 'utf8',
      }),
    ) as Result[];
    expect(out).toEqual([{}]);
  });
});
