/**
 * The files that turn a root filesystem into a NeonVM guest, besides the /neonvm binaries: the
 * workload definition the guest's vmstart reads, the image spec's init commands and shutdown hook,
 * and /etc/inittab. Pure: returns file contents; guest-overlay.ts writes them.
 *
 * Contract with the guest (guest/guest-scripts.ts vmstart, IMAGE_CONFIG_FILES): `/neonvm/config/
 * image-command.sh` and `image-args.sh` hold shell-quoted words (runtime `command.sh`/`args.sh` from the
 * VM spec replace them), `image-env.sh` holds shell lines run before the workload starts, and
 * `image-user` names the account the workload runs as.
 */
import { isEnvVarName } from '../../crds';
import { IMAGE_CONFIG_FILES } from '../../guest';
import { shellJoin, shellQuote } from '../../host';
import type { RunConfig } from '../oci';
import type { ImageSpec } from './image-spec';

export const GUEST_CONFIG_DIR = 'neonvm/config';
const SH = '/neonvm/bin/sh';

export interface GuestFile {
  /** Relative to the root filesystem. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/**
 * The workload files from the image config. `user` is the resolved account (undefined = root):
 * written to image-user, as whom the guest's vmstart runs the workload — also a command the VM spec
 * gives instead of the image's (upstream runs vmstarter.sh through su-exec the same way).
 */
export function workloadFiles(run: RunConfig, user: string | undefined): GuestFile[] {
  const files: GuestFile[] = [];
  if (user)
    files.push({ path: `${GUEST_CONFIG_DIR}/${IMAGE_CONFIG_FILES.user}`, content: `${user}\n`, mode: 0o644 });
  const envLines = Object.entries(run.env).map(([k, v]) => {
    if (!isEnvVarName(k))
      throw new Error(`the image's Env has a name the guest shell cannot export: ${JSON.stringify(k)}`);
    return `export ${k}=${shellQuote(v)}\n`;
  });
  const cd = `cd ${shellQuote(run.workingDir)} || exit 1\n`;
  files.push({
    path: `${GUEST_CONFIG_DIR}/${IMAGE_CONFIG_FILES.env}`,
    content: envLines.join('') + cd,
    mode: 0o644,
  });
  // Env and WorkingDir apply also to a command the VM spec gives (upstream exports the image's ENV first).
  if (run.entrypoint.length > 0) {
    files.push({
      path: `${GUEST_CONFIG_DIR}/${IMAGE_CONFIG_FILES.command}`,
      content: shellJoin(run.entrypoint),
      mode: 0o644,
    });
  }
  if (run.cmd.length > 0) {
    files.push({
      path: `${GUEST_CONFIG_DIR}/${IMAGE_CONFIG_FILES.args}`,
      content: shellJoin(run.cmd),
      mode: 0o644,
    });
  }
  return files;
}

export function commandScriptPath(name: string): string {
  return `${GUEST_CONFIG_DIR}/commands/${name}.sh`;
}

export const SHUTDOWN_HOOK_PATH = `${GUEST_CONFIG_DIR}/${IMAGE_CONFIG_FILES.shutdownHook}`;

/**
 * One script per spec command (upstream: `su -p <user> -c 'ulimit -c unlimited; <shell>'`), plus the
 * shutdown hook (run by the guest's vmshutdown, which then waits for the workload to exit). Scripts instead of inline inittab commands: busybox init hands a command line with
 * shell syntax to /bin/sh, which an image need not have.
 */
export function specScripts(spec: ImageSpec): GuestFile[] {
  const files: GuestFile[] = (spec.commands ?? []).map((c) => {
    const body = `ulimit -c unlimited\n${c.shell}\n`;
    const run =
      c.user === 'root' || c.user === '0'
        ? body
        : `exec /neonvm/bin/su -p -s ${SH} ${shellQuote(c.user)} -c ${shellQuote(body)}\n`;
    return {
      path: commandScriptPath(c.name),
      content: `#!${SH}\n# image spec command "${c.name}"\n${run}`,
      mode: 0o755,
    };
  });
  if (spec.shutdownHook !== undefined) {
    files.push({ path: SHUTDOWN_HOOK_PATH, content: `#!${SH}\n${spec.shutdownHook}\n`, mode: 0o755 });
  }
  return files;
}

/**
 * The image's /etc/inittab: the guest's (services, workload, console, shutdown) with the spec's
 * commands inserted before the console line (upstream order §5.2: services, vmstart, commands,
 * console, shutdown). The shutdown hook is not a line of its own: the guest's vmshutdown runs it
 * after stopping the workload's respawn and before waiting for the workload.
 */
export function imageInittab(guestInittab: string, spec: ImageSpec): string {
  const lines = guestInittab.replace(/\n$/, '').split('\n');
  const commandLines = (spec.commands ?? []).map(
    (c) => `::${c.sysvInitAction}:${SH} /${commandScriptPath(c.name)}`,
  );
  const consoleAt = lines.findIndex((l) => /^[A-Za-z0-9]+::/.test(l));
  const shutdownAt = lines.findIndex((l) => l.startsWith('::shutdown:'));
  const insertCommandsAt = consoleAt >= 0 ? consoleAt : shutdownAt >= 0 ? shutdownAt : lines.length;
  const out = [...lines.slice(0, insertCommandsAt), ...commandLines, ...lines.slice(insertCommandsAt)];
  return out.join('\n') + '\n';
}
