/** Version, revision, source URL and SOURCE_DATE_EPOCH of the checkout being packaged. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runText } from '../host';
import type { BuildInfo } from './image-plan';

interface PackageJson {
  readonly version: string;
  readonly repository?: { readonly url?: string };
}

/** `https://github.com/o/r.git` and `git+https://...` → `https://github.com/o/r`. Pure. */
export function sourceUrl(repositoryUrl: string): string {
  return repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '');
}

/**
 * SOURCE_DATE_EPOCH wins when set (reproducible-builds convention); otherwise the last commit's
 * time, so a rebuild of the same commit gets the same timestamps and digests.
 */
export async function readBuildInfo(
  repoDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuildInfo> {
  const pkg = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as PackageJson;
  const revision = (await runText(['git', 'rev-parse', 'HEAD'], { cwd: repoDir })).trim();
  const epoch =
    env.SOURCE_DATE_EPOCH ?? (await runText(['git', 'log', '-1', '--format=%ct'], { cwd: repoDir })).trim();
  return {
    version: pkg.version,
    revision,
    source: sourceUrl(pkg.repository?.url ?? ''),
    created: new Date(Number(epoch) * 1000),
  };
}
