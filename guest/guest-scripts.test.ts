import { archInfo } from './arch';
import { GUEST_AGENT_PORT, initramfsInit, inittab, vminit, vmstart } from './guest-scripts';
import { rootfsLayout } from './rootfs-layout';

describe('guest scripts', () => {
  it('inittab starts sysinit, the agent, sshd, chrony, the workload and a console shell', () => {
    const tab = inittab(archInfo('amd64'));
    expect(tab.split('\n')[1]).toBe('::sysinit:/neonvm/bin/vminit');
    expect(tab).toContain('::respawn:/neonvm/bin/udhcpc-eth0');
    expect(tab).toContain(`::respawn:/neonvm/bin/neonvmd --addr=169.254.254.254:${GUEST_AGENT_PORT}`);
    expect(tab).toMatch(/::respawn:\/neonvm\/bin\/dropbear .*-p 22/);
    expect(tab).toContain('::respawn:/neonvm/bin/vmstart');
    expect(tab).toContain('ttyS0::respawn:-/neonvm/bin/sh');
    expect(tab).toContain('::shutdown:/neonvm/bin/vmshutdown');
    expect(inittab(archInfo('arm64'))).toContain('ttyAMA0::respawn:');
  });

  it('initramfs init honours root= and init= and switch_roots', () => {
    const init = initramfsInit();
    expect(init).toContain('root=*) root=${arg#root=}');
    expect(init).toContain('init=*) init=${arg#init=}');
    expect(init).toContain('exec switch_root /newroot "$init"');
    expect(init).toContain('root=/dev/vda init=/neonvm/bin/init ');
  });

  it('vminit mounts the runtime ISO by label and only uses PHC when /dev/ptp0 exists', () => {
    const s = vminit();
    expect(s).toContain('findfs LABEL=vmruntime');
    // Root-only: the agent token and the workload's environment are on it.
    expect(s).toContain('mount -t iso9660 -o ro,uid=0,gid=0,overriderockperm,mode=0400,dmode=0500');
    expect(s).toContain('sh $R/mounts.sh');
    expect(s).toContain('sysctl -q -p $R/sysctl.conf');
    expect(s).toContain('ln -sf "../${port##*/}" "/dev/virtio-ports/$name"');
    expect(s).toMatch(/if \[ -c \/dev\/ptp0 \]; then\n\s+echo "refclock PHC \/dev\/ptp0 poll 2"/);
  });

  it('vmstart exports env before exec-ing command and args', () => {
    const s = vmstart();
    expect(s.indexOf('cat $R/env.sh')).toBeLessThan(s.indexOf("printf 'exec %s %s\\n'"));
  });

  it('no shell script uses a /bin path the guest lacks before sysinit', () => {
    for (const e of rootfsLayout(archInfo('amd64'))) {
      if (e.kind === 'file' && e.content.startsWith('#!'))
        expect(e.content.split('\n')[0]).toBe('#!/neonvm/bin/sh');
    }
  });
});
