import { parseResolvConf } from './network-setup';
import { sshConfigText } from '../lifecycle/access-files';

describe('pod resolv.conf for the guest DHCP', () => {
  it('takes the first nameserver and the search domains', () => {
    expect(
      parseResolvConf(
        'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 8.8.8.8\noptions ndots:5\n',
      ),
    ).toEqual({
      dnsServer: '10.96.0.10',
      searchDomains: ['default.svc.cluster.local', 'svc.cluster.local'],
    });
    expect(parseResolvConf('')).toEqual({ dnsServer: undefined, searchDomains: [] });
  });
});

describe('ssh_config for `ssh guest-vm`', () => {
  it('names the guest, port and key', () => {
    const text = sshConfigText({
      host: '127.0.0.1',
      port: 40022,
      identityFile: '/pod/mnt/ssh/id_ed25519',
      knownHosts: '/pod/vm/runner/known_hosts',
    });
    expect(text).toContain(
      'Host guest-vm\n  HostName 127.0.0.1\n  Port 40022\n  User root\n  IdentityFile /pod/mnt/ssh/id_ed25519',
    );
    expect(text).toContain('StrictHostKeyChecking accept-new');
  });
});
