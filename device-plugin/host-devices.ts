/** Host facts the plugin reads: whether a device node exists, and the identity of a socket file. */
import { lstat, stat } from 'node:fs/promises';
import { connect } from 'node:net';

/** True when `path` is a character device node (a regular file or a dangling name is not a device). */
export async function isCharacterDevice(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isCharacterDevice();
  } catch {
    return false;
  }
}

/**
 * An identity of the unix socket file at `path` (device, inode, birth time), or undefined when there
 * is none: a restarted kubelet recreates kubelet.sock, and a new identity means its registrations are
 * gone. The birth time is part of it because ext4 hands a freed inode number to the next new file.
 */
export async function socketIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await lstat(path, { bigint: true });
    if (!s.isSocket()) return undefined;
    // Without birth times (some file systems report 0) the change time stands in.
    return `${s.dev}:${s.ino}:${s.birthtimeNs || s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** Whether a process accepts connections on the unix socket `path`. */
export function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = connect(path);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}
