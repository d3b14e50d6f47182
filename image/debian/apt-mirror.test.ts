import { debianMirror, parseDeb822Sources, parseSourcesList } from './apt-mirror';

describe('apt mirror detection', () => {
  it('reads deb822 .sources and skips security and third-party archives', () => {
    const sources = parseDeb822Sources(`Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
`);
    expect(sources).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'] },
      { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'] },
    ]);
    expect(debianMirror(sources, 'bookworm')).toBe('http://deb.debian.org/debian');
  });
  it('reads one-line sources.list entries with options', () => {
    const sources = parseSourcesList(
      'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n# deb http://x/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n',
    );
    expect(debianMirror(sources, 'bookworm')).toBe('http://mirror.example/debian/');
  });
  it('skips disabled stanzas and finds nothing for other suites', () => {
    expect(parseDeb822Sources('Types: deb\nURIs: http://x/debian\nSuites: bookworm\nEnabled: no\n')).toEqual(
      [],
    );
    expect(debianMirror([{ uri: 'http://x/debian', suites: ['bullseye'] }], 'bookworm')).toBeUndefined();
  });
});
