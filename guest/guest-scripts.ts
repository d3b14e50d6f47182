/**
 * The guest's boot and service scripts, as text. Everything runs under busybox (ash, init, udhcpc)
 * from /neonvm/bin so the guest never depends on what the root filesystem image brings.
 *
 * Under TCG every fork costs milliseconds, so the scripts prefer shell builtins (`read`, `case`,
 * parameter expansion) over helper processes on the boot path.
 */
import { ArchInfo } from './arch';

/** Files of the runtime ISO (volume id `vmruntime`) the guest reads; see RUNTIME_ISO_LABEL. */
export const RUNTIME_FILES = {
  /** Shell lines run by sysinit (mounts of extra disks, swap...). */
  mounts: 'mounts.sh',
  /** `sysctl -p` input. */
  sysctl: 'sysctl.conf',
  /** Workload: `export NAME=value` lines. */
  env: 'env.sh',
  /** Workload command, already shell-quoted (`guest.command`). */
  command: 'command.sh',
  /** Workload arguments, already shell-quoted (`guest.args`). */
  args: 'args.sh',
  /** `QmpScaling` (default) or `SysfsScaling`: read by the guest agent. */
  cpuScalingMode: 'cpu-scaling-mode',
  /** Optional shell run by the shutdown action before processes are killed. */
  shutdownHook: 'shutdown-hook.sh',
  /** The bearer token the guest agent requires of every request (the runner's, see agent-token.ts). */
  agentToken: 'agent-token',
  /** `{"roots":[{"path","fileMode"}]}`: the only directories the agent's /files reads and writes. */
  filesRoots: 'files-roots.json',
} as const;

export const RUNTIME_ISO_LABEL = 'vmruntime';
export const SSH_ISO_LABEL = 'ssh-authorized-keys';
/** Printed on the console by the guest agent once its API listens. */
export const GUEST_READY_LINE = 'neonvm-guest: ready';
export const GUEST_AGENT_PORT = 25183;
/**
 * The guest's eth0 address, on the link to the runner (tap bridge or QEMU user-mode network): the
 * only address the agent listens on, so peers on the overlay (eth1) cannot reach it.
 */
export const GUEST_LINK_IP = '169.254.254.254';

/**
 * /init of the initramfs: modules, root mount, switch_root. Reads `root=` (default /dev/vda),
 * `init=` (default /neonvm/bin/init, so a root disk made from any image boots neonvm's init),
 * `rootfstype=` and `ro` from the kernel command line.
 */
export function initramfsInit(): string {
  return `#!/bin/sh
# neonvm initramfs: load the kernel modules the guest needs (virtio, isofs, ...), mount the root
# disk and hand over to its init. Debian's kernel builds these drivers as modules.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# load.list is written at build time in dependency order: "<required|optional> <module>".
while read -r kind mod; do
  if ! insmod "/lib/modules/$mod.ko" 2>/dev/null && [ "$kind" = required ]; then
    echo "neonvm-initramfs: error: cannot load module $mod"
  fi
done < /lib/modules/load.list

root=/dev/vda init=/neonvm/bin/init fstype=ext4 flags=rw
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
  case "$arg" in
    root=*) root=\${arg#root=} ;;
    init=*) init=\${arg#init=} ;;
    rootfstype=*) fstype=\${arg#rootfstype=} ;;
    ro) flags=ro ;;
    rw) flags=rw ;;
  esac
done

# virtio_blk probes asynchronously: wait up to 10 s for the disk.
i=0
while :; do
  case "$root" in
    LABEL=*|UUID=*) dev=$(findfs "$root" 2>/dev/null) ;;
    *) dev=$root ;;
  esac
  [ -n "$dev" ] && [ -b "$dev" ] && break
  i=$((i + 1))
  if [ $i -gt 1000 ]; then
    echo "neonvm-initramfs: error: root device $root not found"
    exec sh
  fi
  usleep 10000
done

mkdir -p /newroot
if ! mount -t "$fstype" -o "$flags" "$dev" /newroot; then
  echo "neonvm-initramfs: error: cannot mount $dev on /newroot"
  exec sh
fi
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot "$init"
`;
}

/** busybox init's /etc/inittab (upstream §5.2, adapted to what this guest ships). */
export function inittab(arch: ArchInfo): string {
  // The agent comes first: its ready line is what the runner and tests wait for.
  return `# neonvm guest: busybox init. sysinit runs to completion before anything else starts.
::sysinit:/neonvm/bin/vminit
::respawn:/neonvm/bin/neonvmd --addr=${GUEST_LINK_IP}:${GUEST_AGENT_PORT}
::respawn:/neonvm/bin/udhcpc-eth0
::respawn:/neonvm/bin/chronyd -n -u root -f /run/chrony.conf -l /var/log/chrony/chrony.log
::respawn:/neonvm/bin/dropbear -F -E -R -s -p 22 -P /run/dropbear.pid
::respawn:/neonvm/bin/vmstart
${arch.serialTty}::respawn:-/neonvm/bin/sh
::shutdown:/neonvm/bin/vmshutdown
`;
}

/** sysinit: pseudo filesystems, runtime ISO, mounts.sh, sysctl, root fs growth, network, chrony config. */
export function vminit(): string {
  return `#!/neonvm/bin/sh
# neonvm guest sysinit (runs once at boot, before the respawned services).
export PATH=/neonvm/bin
R=/neonvm/runtime

mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=755 run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/neonvm /run/chrony /var/lib/chrony /var/log/chrony /tmp
chmod 1777 /tmp
chmod 750 /run/chrony # chronyd refuses a command socket in a world-readable dir

root=/dev/vda
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
  case "$arg" in
    root=*) root=\${arg#root=} ;;
    hostname=*) hostname "\${arg#hostname=}" ;;
  esac
done

# Runtime configuration from the runner (ISO9660, volume id ${RUNTIME_ISO_LABEL}), readable by root
# only: it holds the guest agent's token and the workload's environment.
if dev=$(findfs LABEL=${RUNTIME_ISO_LABEL} 2>/dev/null); then
  mount -t iso9660 -o ro,uid=0,gid=0,overriderockperm,mode=0400,dmode=0500 "$dev" $R ||
    echo "neonvm-guest: error: cannot mount runtime disk $dev"
else
  echo "neonvm-guest: no runtime disk (label ${RUNTIME_ISO_LABEL})"
fi
if [ -f $R/${RUNTIME_FILES.mounts} ]; then
  sh $R/${RUNTIME_FILES.mounts} || echo "neonvm-guest: error: ${RUNTIME_FILES.mounts} failed"
fi
# SSH keys: mounts.sh of an upstream-style runner mounts them; otherwise do it here.
if [ ! -f /mnt/ssh/authorized_keys ] && dev=$(findfs LABEL=${SSH_ISO_LABEL} 2>/dev/null); then
  mount -t iso9660 -o ro,mode=0644 "$dev" /mnt/ssh
fi
if [ -f $R/${RUNTIME_FILES.sysctl} ]; then
  sysctl -q -p $R/${RUNTIME_FILES.sysctl} || echo "neonvm-guest: error: sysctl failed"
fi

# The runner may have grown the disk image; grow the filesystem to match (online resize).
resize2fs "$root" >/dev/null 2>&1 || echo "neonvm-guest: warning: resize2fs $root failed"

ip link set lo up
ip link set eth0 up 2>/dev/null

# Overlay network (spec.extraNetwork): the runner passes the address as the kernel's
# ip=<ip>::<gateway>:<netmask>:<hostname>:<device>:off (upstream's format). Debian's kernel does no
# IP autoconfiguration (and virtio_net is a module), so apply it here.
for arg in $cmdline; do
  case "$arg" in
    ip=*)
      oldifs=$IFS; IFS=:
      set -- \${arg#ip=}
      IFS=$oldifs
      if [ -n "$1" ] && [ -n "$6" ]; then
        if ifconfig "$6" "$1" netmask "\${4:-255.255.255.255}" up; then
          [ -n "$3" ] && route add default gw "$3" dev "$6"
          echo "neonvm-guest: $6 $1 netmask \${4:-255.255.255.255}"
        else
          echo "neonvm-guest: error: cannot configure $6 from ip=\${arg#ip=}"
        fi
      fi
      ;;
  esac
done

# Named virtio-serial ports (e.g. the runner's tech.neon.log.0 log channel) under
# /dev/virtio-ports/<name>, as udev would do; writable by every workload user.
for port in /sys/class/virtio-ports/vport*; do
  [ -f "$port/name" ] || continue
  read -r name < "$port/name"
  [ -n "$name" ] || continue
  mkdir -p /dev/virtio-ports
  chmod 666 "/dev/\${port##*/}"
  ln -sf "../\${port##*/}" "/dev/virtio-ports/$name"
done

# chrony: the KVM PTP clock when there is one (ptp_kvm loads only under KVM), else free-running.
{
  if [ -c /dev/ptp0 ]; then
    echo "refclock PHC /dev/ptp0 poll 2"
  else
    echo "local stratum 10"
  fi
  echo "driftfile /var/lib/chrony/chrony.drift"
  echo "makestep 1.0 3"
  echo "rtcsync"
  echo "pidfile /run/chrony/chronyd.pid"
  echo "bindcmdaddress /run/chrony/chronyd.sock"
  echo "cmdport 0"
} > /run/chrony.conf

touch /run/neonvm/vmstart.allowed
`;
}

/** Files of /neonvm/config written by `neonvm image build` from the image config (see image/builder). */
export const IMAGE_CONFIG_FILES = {
  command: 'image-command.sh',
  args: 'image-args.sh',
  env: 'image-env.sh',
  /** The image's `User`, resolved to an account name: vmstart runs the workload as it. */
  user: 'image-user',
  /** The image spec's shutdownHook; vmshutdown runs it. */
  shutdownHook: 'shutdown-hook.sh',
} as const;

/** The workload's PID while it runs (vmstart writes it; vmshutdown waits for it). */
export const WORKLOAD_PID_FILE = '/run/neonvm/workload.pid';

/** The workload runner, respawned by init: builds the start script from the image and runtime ISO. */
export function vmstart(): string {
  return `#!/neonvm/bin/sh
# Runs the workload once; init respawns this script, so the workload is restarted whenever it
# exits (like docker --restart=always). The VM keeps running either way.
export PATH=/neonvm/bin
R=/neonvm/runtime
C=/neonvm/config
if [ ! -f /run/neonvm/vmstart.allowed ]; then
  sleep 1 # shutting down (or sysinit not done): do not start anything
  exit 0
fi
if [ -f $R/${RUNTIME_FILES.command} ]; then command=$(cat $R/${RUNTIME_FILES.command}); elif [ -f $C/${IMAGE_CONFIG_FILES.command} ]; then command=$(cat $C/${IMAGE_CONFIG_FILES.command}); else command=; fi
if [ -f $R/${RUNTIME_FILES.args} ]; then args=$(cat $R/${RUNTIME_FILES.args}); elif [ -f $C/${IMAGE_CONFIG_FILES.args} ]; then args=$(cat $C/${IMAGE_CONFIG_FILES.args}); else args=; fi
if [ -z "$command" ] && [ -z "$args" ]; then
  echo "neonvm-guest: no workload command (no ${RUNTIME_FILES.command}/${RUNTIME_FILES.args})"
  exec sleep 2147483647
fi
{
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  [ -f $C/${IMAGE_CONFIG_FILES.env} ] && cat $C/${IMAGE_CONFIG_FILES.env}
  [ -f $R/${RUNTIME_FILES.env} ] && cat $R/${RUNTIME_FILES.env}
  printf 'exec %s %s\\n' "$command" "$args"
} > /run/neonvm/vmstarter.sh
# The workload's environment: readable by the workload's user only (the runtime disk is root-only).
chmod 600 /run/neonvm/vmstarter.sh
# The image's User runs the workload, also when the VM spec replaces its command (upstream: su-exec).
# su, sh and the starter all exec, so $! is the workload's own PID (vmshutdown signals and waits for it).
user=
[ -f $C/${IMAGE_CONFIG_FILES.user} ] && read -r user < $C/${IMAGE_CONFIG_FILES.user}
echo "neonvm-guest: starting workload\${user:+ as $user}"
if [ -n "$user" ]; then
  chown "$user" /run/neonvm/vmstarter.sh
  su -p -s /neonvm/bin/sh "$user" -c 'exec /neonvm/bin/sh /run/neonvm/vmstarter.sh' &
else
  sh /run/neonvm/vmstarter.sh &
fi
pid=$!
echo $pid > ${WORKLOAD_PID_FILE}
wait $pid
status=$?
rm -f ${WORKLOAD_PID_FILE}
echo "neonvm-guest: workload exited with status $status"
sleep 1
`;
}

/**
 * ::shutdown: action (poweroff/reboot, e.g. after the ACPI power button): stops respawning the
 * workload, runs the shutdown hooks (the image's, then the runtime ISO's), then SIGTERMs the
 * workload if it still runs and waits for it to exit, so the VM powers off only after both are done
 * (the runner's grace period bounds the wait). busybox init kills everything else afterwards.
 * FIX: upstream re-runs the hook every 0.5 s until the workload exits and never signals the workload.
 */
export function vmshutdown(): string {
  return `#!/neonvm/bin/sh
export PATH=/neonvm/bin
rm -f /run/neonvm/vmstart.allowed
echo "neonvm-guest: shutting down"
for hook in /neonvm/config/${IMAGE_CONFIG_FILES.shutdownHook} /neonvm/runtime/${RUNTIME_FILES.shutdownHook}; do
  [ -f "$hook" ] || continue
  echo "neonvm-guest: running shutdown hook $hook"
  sh "$hook" || echo "neonvm-guest: shutdown hook $hook failed"
done
pid=
[ -f ${WORKLOAD_PID_FILE} ] && read -r pid < ${WORKLOAD_PID_FILE}
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  echo "neonvm-guest: stopping the workload (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do usleep 100000; done
  echo "neonvm-guest: workload stopped"
fi
sync
`;
}

/** Upstream's helper (§5.2): `resize-swap [--once] <bytes>`; --once refuses every later resize. */
export function resizeSwap(): string {
  return `#!/neonvm/bin/sh
export PATH=/neonvm/bin
once=
if [ "$1" = --once ]; then once=1; shift; fi
case "$1" in
  ''|*[!0-9]*) echo "usage: resize-swap [--once] <bytes>" >&2; exit 2 ;;
esac
if [ -f /run/neonvm/swap-resized-once ]; then
  echo "resize-swap: the swap was already resized with --once" >&2
  exit 3
fi
if [ ! -f /neonvm/runtime/resize-swap-internal.sh ]; then
  echo "resize-swap: this VM has no swap disk (spec.guest.settings.swap)" >&2
  exit 1
fi
sh /neonvm/runtime/resize-swap-internal.sh "$1" || exit 1
[ -n "$once" ] && touch /run/neonvm/swap-resized-once
echo "resize-swap: swap is now $1 bytes"
`;
}

/** Upstream's helper (§5.2): `set-disk-quota <KiB> <mountpoint>`, the hard block limit of project 0. */
export function setDiskQuota(): string {
  return `#!/neonvm/bin/sh
export PATH=/neonvm/bin
if [ $# -ne 2 ]; then
  echo "usage: set-disk-quota <KiB> <mountpoint>" >&2
  exit 2
fi
exec setquota -P 0 0 "$1" 0 0 "$2"
`;
}

/** udhcpc event script: configures the address, default route and resolv.conf. */
export function udhcpcScript(): string {
  return `#!/neonvm/bin/sh
export PATH=/neonvm/bin
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip addr replace "$ip/\${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface"
    {
      [ -n "$search" ] && echo "search $search"
      [ -z "$search" ] && [ -n "$domain" ] && echo "search $domain"
      for ns in $dns; do echo "nameserver $ns"; done
    } > /etc/resolv.conf
    ;;
esac
exit 0
`;
}

/** DHCP on eth0, respawned by init; idles when the VM has no NIC instead of respawning in a loop. */
export function udhcpcEth0(): string {
  return `#!/neonvm/bin/sh
export PATH=/neonvm/bin
[ -e /sys/class/net/eth0 ] || exec sleep 2147483647
exec udhcpc -t 1 -T 1 -A 1 -f -i eth0 -O 121 -O 119 -s /neonvm/bin/udhcpc.script
`;
}

/** `blkid -L <label>` for upstream-style mounts.sh scripts; busybox has findfs but no blkid. */
export function blkidShim(): string {
  return `#!/neonvm/bin/sh
if [ "$1" = -L ] && [ -n "$2" ]; then exec /neonvm/bin/findfs "LABEL=$2"; fi
echo "blkid: only 'blkid -L <label>' is supported in this guest" >&2
exit 2
`;
}
