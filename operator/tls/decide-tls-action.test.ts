import {
  decideTlsAction,
  renewalTime,
  tlsSpecDigest,
  TLS_MAX_WAIT_MS,
  TLS_RETRY_MS,
  type TlsObservation,
} from './decide-tls-action';

const H = 3_600_000;
const tls = { certificateIssuer: 'ca', serverName: 'db.example', expireAfter: '24h', renewBefore: '6h' };
const digest = tlsSpecDigest(tls);
const now = 1_000 * H;
const issued = (notBefore: number, lifetime = 24 * H) => ({ notBefore, notAfter: notBefore + lifetime });
const obs = (o: Partial<TlsObservation>): TlsObservation => ({ tls, keySecretExists: false, now, ...o });
const kinds = (d: { actions: { kind: string }[] }) => d.actions.map((a) => a.kind);

describe('decideTlsAction', () => {
  it('first certificate: makes a key and a request, and is not ready (the VM waits)', () => {
    const d = decideTlsAction(obs({}));
    expect(d).toMatchObject({ ready: false });
    expect(d.requeueAfterMs).toBeUndefined(); // the request's watch events bring the next round
    expect(kinds(d)).toEqual(['create-key', 'create-request']);
  });

  it('waits for cert-manager, then copies the issued certificate into the Secret', () => {
    const pending = decideTlsAction(
      obs({ keySecretExists: true, request: { specDigest: digest, issued: false } }),
    );
    expect(pending).toMatchObject({ ready: false, actions: [] });
    expect(pending.requeueAfterMs).toBeUndefined();
    const done = decideTlsAction(
      obs({ keySecretExists: true, request: { specDigest: digest, issued: true } }),
    );
    expect(kinds(done)).toEqual(['write-secret']);
  });

  it('a current certificate is ready: leftovers are removed and the renewal time is the next wake-up', () => {
    const d = decideTlsAction(
      obs({
        secret: { certificate: issued(now - H, 10 * H), specDigest: digest },
        keySecretExists: true,
        request: { specDigest: digest, issued: true },
      }),
    );
    expect(d.ready).toBe(true);
    expect(kinds(d)).toEqual(['delete-request', 'delete-key']);
    expect(d.requeueAfterMs).toBe(3 * H); // expires at +9h, renewed 6h before
    const far = decideTlsAction(
      obs({ secret: { certificate: issued(now, 90 * 24 * H), specDigest: digest } }),
    );
    expect(far.requeueAfterMs).toBe(TLS_MAX_WAIT_MS);
  });

  it('renewal keeps the VM ready on its current certificate while a new one is requested', () => {
    const d = decideTlsAction(obs({ secret: { certificate: issued(now - 20 * H), specDigest: digest } }));
    expect(d.ready).toBe(true);
    expect(kinds(d)).toEqual(['create-key', 'create-request']);
  });

  it('an expired certificate is not ready', () => {
    const d = decideTlsAction(obs({ secret: { certificate: issued(now - 25 * H), specDigest: digest } }));
    expect(d.ready).toBe(false);
  });

  it('re-issues when serverName, issuer or lifetime change, replacing a request made for the old spec', () => {
    const old = tlsSpecDigest({ ...tls, serverName: 'old.example' });
    const d = decideTlsAction(obs({ secret: { certificate: issued(now - H), specDigest: old } }));
    expect(kinds(d)).toEqual(['create-key', 'create-request']);
    const stale = decideTlsAction(obs({ keySecretExists: true, request: { specDigest: old, issued: true } }));
    expect(kinds(stale)).toEqual(['delete-request']);
    expect(tlsSpecDigest({ ...tls, renewBefore: '1h' })).toBe(digest); // renewal timing is not issuance
  });

  it('reports a failed request and replaces it after the retry delay', () => {
    const failure = { reason: 'Failed', message: 'issuer ca not found', at: now - 1_000 };
    const early = decideTlsAction(
      obs({ keySecretExists: true, request: { specDigest: digest, issued: false, failure } }),
    );
    expect(early).toMatchObject({ actions: [], requeueAfterMs: TLS_RETRY_MS - 1_000 });
    expect(early.problem).toContain('issuer ca not found');
    const late = decideTlsAction(
      obs({
        keySecretExists: true,
        request: { specDigest: digest, issued: false, failure: { ...failure, at: now - TLS_RETRY_MS } },
      }),
    );
    expect(kinds(late)).toEqual(['delete-request']);
  });

  it('does not use an issued certificate whose key is gone', () => {
    const d = decideTlsAction(obs({ keySecretExists: false, request: { specDigest: digest, issued: true } }));
    expect(kinds(d)).toEqual(['delete-request']);
  });

  it('does not loop when the issuer makes certificates shorter than renewBefore', () => {
    const d = decideTlsAction(
      obs({ secret: { certificate: issued(now - 1_000, 2 * H), specDigest: digest } }),
    );
    expect(d).toMatchObject({ ready: true, actions: [], requeueAfterMs: TLS_RETRY_MS - 1_000 });
    expect(d.problem).toContain('renewBefore');
    // A short but sane lifetime renews on time, without complaint.
    const short = { ...tls, expireAfter: '1h', renewBefore: '59m' };
    const renew = decideTlsAction(
      obs({ tls: short, secret: { certificate: issued(now - 61_000, H), specDigest: tlsSpecDigest(short) } }),
    );
    expect(renew.problem).toBeUndefined();
    expect(kinds(renew)).toEqual(['create-key', 'create-request']);
  });
});

describe('renewalTime', () => {
  it('is renewBefore ahead of expiry, else at two thirds of the lifetime', () => {
    expect(renewalTime(tls, issued(0))).toBe(18 * H);
    expect(renewalTime({ ...tls, renewBefore: undefined }, issued(0))).toBe(16 * H);
  });
});
