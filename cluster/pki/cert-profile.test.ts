import { renderExtensions, renderSubject } from './cert-profile';

describe('renderSubject', () => {
  it('puts organizations before the common name', () => {
    expect(renderSubject({ commonName: 'admin', organizations: ['system:masters'], usage: 'client' })).toBe(
      '/O=system:masters/CN=admin',
    );
  });

  it('escapes slashes so a name cannot add attributes', () => {
    expect(renderSubject({ commonName: 'a/CN=b', usage: 'client' })).toBe('/CN=a\\/CN=b');
  });
});

describe('renderExtensions', () => {
  it('lists IP and DNS subject alternative names for a serving certificate', () => {
    const ext = renderExtensions({
      commonName: 'kube-apiserver',
      ips: ['127.0.0.1'],
      dnsNames: ['localhost'],
      usage: 'server',
    });
    expect(ext).toContain('extendedKeyUsage = serverAuth\n');
    expect(ext).toContain('subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  });

  it('omits subjectAltName for client certificates', () => {
    const ext = renderExtensions({ commonName: 'admin', usage: 'client' });
    expect(ext).toContain('extendedKeyUsage = clientAuth');
    expect(ext).not.toContain('subjectAltName');
  });
});
