/** What a leaf certificate is for; rendered into an OpenSSL extension file by {@link renderExtensions}. */
export interface CertProfile {
  commonName: string;
  /** Kubernetes reads O= as the user's groups (e.g. system:masters). */
  organizations?: readonly string[];
  /** IP addresses and DNS names for serving certificates. */
  ips?: readonly string[];
  dnsNames?: readonly string[];
  usage: 'server' | 'client' | 'both';
}

/** The `-subj` argument of `openssl req`: `/O=a/O=b/CN=name`, with `/` and `\` escaped. */
export function renderSubject(profile: CertProfile): string {
  const esc = (v: string): string => v.replace(/[\\/]/g, (c) => `\\${c}`);
  const parts = [...(profile.organizations ?? []).map((o) => `O=${esc(o)}`), `CN=${esc(profile.commonName)}`];
  return `/${parts.join('/')}`;
}

/** The X.509 v3 extensions for `openssl x509 -req -extfile`. */
export function renderExtensions(profile: CertProfile): string {
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[profile.usage];
  const sans = [
    ...(profile.ips ?? []).map((ip) => `IP:${ip}`),
    ...(profile.dnsNames ?? []).map((d) => `DNS:${d}`),
  ];
  const lines = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    `extendedKeyUsage = ${eku}`,
  ];
  if (sans.length > 0) lines.push(`subjectAltName = ${sans.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
