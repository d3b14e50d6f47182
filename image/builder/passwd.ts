/** Reading /etc/passwd of an image, to run its workload as its `User`. Pure. */

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5], shell: f[6] });
  }
  return out;
}

/**
 * The account name to `su` to for an image's `User` (`name`, `uid`, `name:group`, `uid:gid`), or
 * undefined for root. busybox su needs a passwd entry and uses that account's primary group, so a
 * user missing from /etc/passwd is an error here rather than a workload that never starts.
 */
export function resolveImageUser(user: string, passwd: readonly PasswdEntry[]): string | undefined {
  const name = user.split(':')[0];
  if (name === '' || name === 'root' || name === '0') return undefined;
  const entry = /^[0-9]+$/.test(name)
    ? passwd.find((p) => p.uid === Number(name))
    : passwd.find((p) => p.name === name);
  if (!entry) {
    throw new Error(`the image's User "${user}" has no entry in the image's /etc/passwd`);
  }
  return entry.uid === 0 ? undefined : entry.name;
}
