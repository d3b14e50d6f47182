/**
 * A small OCI image for tests and benchmarks, written programmatically: busybox-static with its
 * applets, an /etc/passwd with an unprivileged `app` user, and an entrypoint script that prints its
 * uid, working directory, environment, arguments and machine on the console and into
 * /tmp/test-workload.log, and on SIGTERM takes TEST_WORKLOAD_STOP_SECONDS to stop, then appends
 * `<marker> stopped` to /tmp/shutdown.log (so a test sees whether shutdown waited for it). Two layers,
 * the second with a whiteout, so building it exercises layer order and whiteouts too.
 */
import { statSync } from 'node:fs';
import { ImageInput, LayerEntry, Platform, WrittenLayout, writeImageLayout } from '../oci';

export const TEST_WORKLOAD_MARKER = 'test-workload:';

export const TEST_WORKLOAD_STOP_SECONDS = 2;

const APPLETS = ['sh', 'cat', 'echo', 'id', 'pwd', 'sleep', 'env', 'ls', 'uname', 'tee', 'sync'];

export const TEST_IMAGE_CONFIG = {
  Entrypoint: ['/app/entrypoint.sh'],
  Cmd: ['first', 'second arg'],
  Env: ['PATH=/bin', 'GREETING=hello from the image'],
  WorkingDir: '/app',
  User: 'app',
};

const ENTRYPOINT = `#!/bin/sh
{
  echo "${TEST_WORKLOAD_MARKER} uid=$(id -u) pwd=$(pwd) greeting=$GREETING argc=$# args=$*"
  echo "${TEST_WORKLOAD_MARKER} machine=$(uname -m)"
} | tee /tmp/test-workload.log
[ -e /etc/removed-by-layer-2 ] && echo "${TEST_WORKLOAD_MARKER} whiteout not applied"
stop() {
  sleep ${TEST_WORKLOAD_STOP_SECONDS}
  echo "${TEST_WORKLOAD_MARKER} stopped uid=$(id -u)" >> /tmp/shutdown.log
  sync
  exit 0
}
trap stop TERM
while :; do sleep 1; done
`;

export function busyboxImageInput(busybox: string, platform: Platform): ImageInput {
  const base: LayerEntry[] = [
    { kind: 'host-file', path: 'bin/busybox', source: busybox, size: statSync(busybox).size, mode: 0o755 },
    ...APPLETS.map((a): LayerEntry => ({ kind: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    {
      kind: 'file',
      path: 'etc/passwd',
      content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n',
    },
    { kind: 'file', path: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
    { kind: 'file', path: 'etc/removed-by-layer-2', content: 'x' },
    { kind: 'dir', path: 'root', mode: 0o700 },
  ];
  const app: LayerEntry[] = [
    { kind: 'file', path: 'etc/.wh.removed-by-layer-2', content: '' },
    { kind: 'file', path: 'app/entrypoint.sh', content: ENTRYPOINT, mode: 0o755 },
  ];
  return {
    platform,
    layers: [base, app],
    history: ['busybox-static', 'entrypoint'],
    config: TEST_IMAGE_CONFIG,
    refName: 'latest',
  };
}

export function writeBusyboxImage(dir: string, busybox: string, platform: Platform): Promise<WrittenLayout> {
  return writeImageLayout(dir, [busyboxImageInput(busybox, platform)], { replace: true });
}
