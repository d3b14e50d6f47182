/**
 * A git server on loopback for GitOps on the local cluster: `git daemon` (git://, read-only, as a
 * platform team's Argo CD reads its repositories) over bare repositories in a temp directory, each with
 * a working clone the caller writes into and commits from. Stopped and removed by `stop()`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, ManagedProcess, pollUntil, registerEmergencyCleanup } from '../../host';

const run = promisify(execFile);

export interface GitRepository {
  readonly name: string;
  /** What Argo CD reads: git://127.0.0.1:<port>/<name>.git */
  readonly url: string;
  /** A clone to write the next commit's files into. */
  readonly workTree: string;
  /** Empties the work tree (keeping .git) so the next commit holds exactly what is written after. */
  clear(): void;
  /** Commits everything in the work tree (additions, changes, deletions) and pushes it; returns the sha. */
  commit(message: string): Promise<string>;
}

export interface GitServer {
  readonly port: number;
  readonly process: ManagedProcess;
  createRepository(name: string): Promise<GitRepository>;
  stop(): Promise<void>;
}

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await run('git', args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' },
    })
  ).stdout.trim();

export async function startGitServer(options: { logFile?: string } = {}): Promise<GitServer> {
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-git-'));
  const unregister = registerEmergencyCleanup(`remove ${dir}`, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const base = join(dir, 'repos');
  mkdirSync(base);
  const port = await freePort();
  const proc = ManagedProcess.start({
    name: 'git-daemon',
    command: 'git',
    args: [
      'daemon', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${base}`,
      '--export-all', '--informative-errors', '--verbose', base,
    ], // prettier-ignore
    logFile: options.logFile ?? join(dir, 'git-daemon.log'),
    env: { PATH: process.env.PATH, HOME: dir },
  });
  const stop = async (): Promise<void> => {
    await proc.stop(2000);
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  try {
    await pollUntil(async () => (proc.logTail(50).includes('Ready to rumble') ? true : undefined), {
      timeoutMs: 15_000,
      description: 'git daemon to listen',
      abortIf: () => (proc.hasExited ? new Error(`git daemon exited:\n${proc.logTail()}`) : undefined),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    process: proc,
    createRepository: async (name) => {
      const bare = join(base, `${name}.git`);
      await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
      const workTree = join(dir, 'work', name);
      mkdirSync(workTree, { recursive: true });
      await git(workTree, 'init', '--quiet', '--initial-branch=main');
      await git(workTree, 'remote', 'add', 'origin', bare);
      // Whoever commits by hand in the work tree (npm start's hint) needs no git identity of their own.
      await git(workTree, 'config', 'user.name', 'NeonVM GitOps');
      await git(workTree, 'config', 'user.email', 'gitops@neonvm.local');
      return {
        name,
        url: `git://127.0.0.1:${port}/${name}.git`,
        workTree,
        clear: () => {
          for (const entry of readdirSync(workTree))
            if (entry !== '.git') rmSync(join(workTree, entry), { recursive: true, force: true });
        },
        commit: async (message) => {
          await git(workTree, 'add', '--all');
          await git(workTree, 'commit', '--quiet', '--allow-empty', '-m', message);
          await git(workTree, 'push', '--quiet', 'origin', 'HEAD:main');
          return git(workTree, 'rev-parse', 'HEAD');
        },
      };
    },
    stop,
  };
}
