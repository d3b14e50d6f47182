/**
 * Live sync of `watch: true` configMap/secret disks (and the TLS secret) into the guest through the
 * guest agent (`PUT /files<mountPath>`, upstream's payload). The host side is a Kubernetes
 * atomic-writer directory; we read its top-level regular files (following symlinks, skipping
 * directories such as `..data`). An upload happens when the host content changed or the guest's
 * checksum no longer matches the one seen after our last upload (e.g. the guest rebooted), so the
 * host never needs the guest's checksum algorithm.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../../host';
import type { FilesPayload, GuestAgent } from './guest-agent';

export interface SyncedDir {
  readonly mountPath: string;
  readonly hostDir: string;
}

export async function readFlatDir(dir: string): Promise<FilesPayload> {
  const out: FilesPayload = {};
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return out; // not mounted (yet): nothing to sync
  }
  for (const name of names) {
    if (name.startsWith('..')) continue;
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (!st?.isFile()) continue;
    out[name] = { data: (await readFile(p)).toString('base64') };
  }
  return out;
}

function digest(payload: FilesPayload): string {
  const h = createHash('sha256');
  for (const [name, { data }] of Object.entries(payload))
    h.update(name).update('\0').update(data).update('\0');
  return h.digest('hex');
}

export class FileSync {
  private timer: TimerHandle | undefined;
  private readonly state = new Map<string, { hostDigest: string; guestChecksum: string }>();
  private stopped = false;

  constructor(
    private readonly agent: GuestAgent,
    private readonly dirs: readonly SyncedDir[],
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
    private readonly opts: { readonly intervalMs?: number; readonly clock?: Clock } = {},
  ) {}

  start(): void {
    if (this.dirs.length === 0) return;
    const tick = async () => {
      for (const d of this.dirs)
        await this.syncOne(d).catch((e: Error) =>
          this.log('file sync failed', { mountPath: d.mountPath, error: e.message }),
        );
      if (!this.stopped)
        this.timer = (this.opts.clock ?? systemClock).setTimer(
          this.opts.intervalMs ?? 2000,
          () => void tick(),
        );
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  async syncOne(d: SyncedDir): Promise<boolean> {
    const payload = await readFlatDir(d.hostDir);
    const hostDigest = digest(payload);
    const prev = this.state.get(d.mountPath);
    const guestChecksum = await this.agent.filesChecksum(d.mountPath, 2000).catch(() => '');
    if (
      prev &&
      prev.hostDigest === hostDigest &&
      prev.guestChecksum === guestChecksum &&
      guestChecksum !== ''
    )
      return false;
    await this.agent.putFiles(d.mountPath, payload, 5000);
    this.state.set(d.mountPath, {
      hostDigest,
      guestChecksum: await this.agent.filesChecksum(d.mountPath, 2000),
    });
    this.log('synced files into the guest', { mountPath: d.mountPath, files: Object.keys(payload).length });
    return true;
  }
}
