/**
 * Reading container log files while they grow: `kubectl logs -f` (the kubelet server) and `kubectl
 * attach` (the streaming server) both follow a log by polling its size and sending the new bytes.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Current size of a log file; 0 while it does not exist yet. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Bytes [from, to) of a file. */
export function readRange(file: string, from: number, to: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer;
  } finally {
    closeSync(fd);
  }
}
