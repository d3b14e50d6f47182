/**
 * In-process X.509 for the operator's own PKI (the migration CA and VM certificates, the self-managed
 * webhook certificates, cert-manager CSRs): ECDSA P-256 keys from Node's crypto, SHA-256 signatures
 * through its WebCrypto (run on libuv's thread pool), certificates and CSRs encoded by `@peculiar/x509`. It replaced the openssl CLI: two child processes per VM certificate, whose `fork` of
 * the operator's ~130 MiB process blocked the event loop for every reconcile in flight (issue 21's CPU
 * profile: 17.6 % of the main thread). Keys are PKCS#8 PEM (`BEGIN PRIVATE KEY`), what `openssl req
 * -nodes` wrote and what QEMU's gnutls, Node's TLS and the API server read.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load without the Reflect
// metadata API: the polyfill must be imported before it (and stays the only global it adds).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  readonly cert: string;
  readonly key: string;
}

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface CertificateProfile {
  /** Subject common name (the whole subject). */
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
  /** basicConstraints (always critical) CA:TRUE or CA:FALSE. */
  readonly isCa: boolean;
  /** keyUsage, always critical. */
  readonly keyUsages: readonly KeyUsage[];
  /** extendedKeyUsage (not critical); omitted when empty. */
  readonly extendedKeyUsages?: readonly ExtendedKeyUsage[];
  /** notAfter = now + validDays × 24 h; notBefore = now. */
  readonly validDays: number;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

const KEY_USAGE_FLAGS: Readonly<Record<KeyUsage, x509.KeyUsageFlags>> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};
const EXTENDED_KEY_USAGES: Readonly<Record<ExtendedKeyUsage, string>> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

/** The signing side of a CA. */
interface Issuer {
  readonly name: x509.Name;
  /** The issuer's key identifier, for the AKI of what it signs. */
  readonly keyId: string;
  readonly signingKey: CryptoKey;
}

/**
 * The last issuer parsed: a thousand VM certificates from the same CA should not re-parse its PEMs a
 * thousand times. One entry: the operator has one migration CA at a time.
 */
let lastIssuer: { readonly cert: string; readonly key: string; readonly issuer: Promise<Issuer> } | undefined;

/**
 * A fresh ECDSA P-256 key pair and a certificate for it: self-signed without `issuer`, else signed by
 * it (a CA certificate and its key, PEM).
 */
export async function issueCertificate(
  profile: CertificateProfile,
  issuer?: CertificateAndKey,
): Promise<CertificateAndKey> {
  checkProfile(profile);
  // Node's own key generation (~30 µs): the key comes out as PEM and DER without a WebCrypto round trip.
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = issuer ? await issuerOf(issuer) : undefined;
  const subject = new x509.Name([{ CN: [profile.commonName] }]);
  const keyId = keyIdentifier(keys.publicKey);
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.create(
    {
      // 16 random bytes (a positive INTEGER of at most 17 octets, within RFC 5280's 20).
      serialNumber: randomBytes(16).toString('hex'),
      subject,
      issuer: signer?.name ?? subject,
      notBefore: now,
      notAfter: new Date(now.getTime() + profile.validDays * DAY_MS),
      publicKey: keys.publicKey.export({ type: 'spki', format: 'der' }),
      signingKey: signer?.signingKey ?? (await toSigningKey(keys.privateKey)),
      signingAlgorithm: SIGNING,
      // What `openssl req/x509` wrote: SKI and AKI (the issuer's key id) besides the profile's own.
      extensions: [
        new x509.BasicConstraintsExtension(profile.isCa, undefined, true),
        new x509.KeyUsagesExtension(
          profile.keyUsages.reduce((flags, u) => flags | KEY_USAGE_FLAGS[u], 0),
          true,
        ),
        ...(profile.extendedKeyUsages?.length
          ? [new x509.ExtendedKeyUsageExtension(profile.extendedKeyUsages.map((u) => EXTENDED_KEY_USAGES[u]))]
          : []),
        ...subjectAltNames(profile),
        new x509.SubjectKeyIdentifierExtension(keyId),
        new x509.AuthorityKeyIdentifierExtension(signer?.keyId ?? keyId),
      ],
    },
    webcrypto,
  );
  return {
    cert: `${cert.toString('pem')}\n`,
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * A PKCS#10 CSR for `commonName` (CN and the only DNS name, in an extensionRequest), signed with the
 * ECDSA P-256 private key `keyPem` (SEC1 or PKCS#8 PEM).
 */
export async function createCertificateRequest(keyPem: string, commonName: string): Promise<string> {
  if (!commonName) throw new Error('CSR: commonName is empty (it is the CN and the DNS name)');
  const privateKey = p256PrivateKey(keyPem, 'CSR key');
  const keys = {
    privateKey: await toSigningKey(privateKey),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      EC_P256,
      true,
      ['verify'],
    ),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: new x509.Name([{ CN: [commonName] }]),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: commonName }])],
    },
    webcrypto,
  );
  return `${csr.toString('pem')}\n`;
}

function checkProfile(p: CertificateProfile): void {
  if (!p.commonName) throw new Error('certificate: commonName is empty');
  if (!Number.isFinite(p.validDays) || p.validDays <= 0)
    throw new Error(`certificate: validDays must be a positive number of days, got ${p.validDays}`);
  if (p.keyUsages.length === 0) throw new Error('certificate: keyUsages is empty (keyUsage is critical)');
}

function subjectAltNames(p: CertificateProfile): x509.SubjectAlternativeNameExtension[] {
  // IP addresses first, then DNS names: the order the openssl extfile listed them.
  const names: x509.JsonGeneralName[] = [
    ...(p.ips ?? []).map((value): x509.JsonGeneralName => ({ type: 'ip', value })),
    ...(p.dnsNames ?? []).map((value): x509.JsonGeneralName => ({ type: 'dns', value })),
  ];
  return names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

function issuerOf(pems: CertificateAndKey): Promise<Issuer> {
  if (lastIssuer?.cert === pems.cert && lastIssuer.key === pems.key) return lastIssuer.issuer;
  const entry = { cert: pems.cert, key: pems.key, issuer: parseIssuer(pems) };
  lastIssuer = entry;
  // A bad CA is reported on every call, not remembered.
  entry.issuer.catch(() => {
    if (lastIssuer === entry) lastIssuer = undefined;
  });
  return entry.issuer;
}

async function parseIssuer(pems: CertificateAndKey): Promise<Issuer> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pems.cert);
  } catch (err) {
    throw new Error(`issuer cert: not a PEM certificate (${(err as Error).message})`);
  }
  if (!cert.ca) throw new Error('issuer cert: not a CA certificate (basicConstraints CA:FALSE or absent)');
  const key = p256PrivateKey(pems.key, 'issuer key');
  // A key that does not belong to the certificate would sign certificates nobody can verify.
  if (!cert.publicKey.equals(createPublicKey(key)))
    throw new Error("issuer key: does not match the issuer certificate's public key");
  const parsed = new x509.X509Certificate(cert.raw);
  // AKI names the issuer's SKI when it has one (openssl's CAs do), else its key's id.
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  return {
    name: parsed.subjectName,
    keyId: ski?.keyId ?? keyIdentifier(cert.publicKey),
    signingKey: await toSigningKey(key),
  };
}

/** RFC 5280's key identifier method 1: SHA-1 of the subjectPublicKey bits, openssl's default too. */
function keyIdentifier(publicKey: KeyObject): string {
  const { x, y } = publicKey.export({ format: 'jwk' });
  if (!x || !y) throw new Error('key identifier: not an EC public key');
  // The bits of an EC subjectPublicKey are the uncompressed point: 0x04 ‖ X ‖ Y.
  const point = Buffer.concat([Buffer.of(4), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]);
  return createHash('sha1').update(point).digest('hex');
}

function p256PrivateKey(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${what}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error(`${what}: an ${key.asymmetricKeyType ?? 'unknown'} key, not ECDSA P-256`);
  return key;
}

/** The WebCrypto handle @peculiar/x509 signs with (it takes no KeyObject). */
function toSigningKey(key: KeyObject): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, [
    'sign',
  ]);
}
