import type { Condition } from '../controller-kit';
import {
  CONDITION_CERTIFICATE_READY,
  certificateCondition,
  nextCertificateCondition,
  tlsReadiness,
  type TlsReadiness,
} from './certificate-condition';

const NOW = new Date(Date.UTC(2026, 0, 1));

describe('certificateCondition / tlsReadiness: the TLS reconciler writes what the VM reconciler reads', () => {
  const cases: Array<[string, { ready: boolean; problem?: string; waiting?: string }, object, TlsReadiness]> =
    [
      [
        'first certificate pending',
        { ready: false, waiting: 'waiting for CertificateRequest to be issued: issuer ca is not Ready' },
        { status: 'False', reason: 'WaitingForCertificate' },
        { ready: false, waiting: 'waiting for CertificateRequest to be issued: issuer ca is not Ready' },
      ],
      [
        'nothing to say yet',
        { ready: false },
        { status: 'False', reason: 'WaitingForCertificate', message: 'waiting for the TLS certificate' },
        { ready: false },
      ],
      [
        'certificate in place',
        { ready: true, waiting: 'renewal pending' },
        {
          status: 'True',
          reason: 'CertificateIssued',
          message: 'Secret tls-neonvm-vm1 holds the certificate',
        },
        { ready: true },
      ],
      [
        'cert-manager missing',
        { ready: false, problem: 'spec.tls needs cert-manager' },
        { status: 'False', reason: 'TlsProvisioningFailed', message: 'spec.tls needs cert-manager' },
        { ready: false, problem: 'spec.tls needs cert-manager' },
      ],
      [
        'renewal failing on a valid certificate',
        { ready: true, problem: 'CertificateRequest failed (Denied): no' },
        { status: 'True', reason: 'TlsProvisioningFailed' },
        { ready: true, problem: 'CertificateRequest failed (Denied): no' },
      ],
    ];
  it.each(cases)('%s', (_, decision, condition, readiness) => {
    const update = certificateCondition(decision, 'tls-neonvm-vm1');
    expect(update).toMatchObject({ type: CONDITION_CERTIFICATE_READY, ...condition });
    const written = nextCertificateCondition(undefined, update, NOW, 3);
    expect(written).toMatchObject({
      ...condition,
      observedGeneration: 3,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
    expect(tlsReadiness([written!])).toEqual(readiness);
  });

  it('writes nothing when the condition already says the same', () => {
    const update = certificateCondition({ ready: true }, 'tls-neonvm-vm1');
    const current = [nextCertificateCondition(undefined, update, NOW, 1)!];
    expect(nextCertificateCondition(current, update, new Date(NOW.getTime() + 5000), 1)).toBeUndefined();
    // A new generation is written (observedGeneration), keeping the transition time.
    expect(nextCertificateCondition(current, update, new Date(NOW.getTime() + 5000), 2)).toMatchObject({
      observedGeneration: 2,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
  });

  it('no condition yet reads as not ready, and other conditions are ignored', () => {
    const available: Condition = {
      type: 'Available',
      status: 'True',
      reason: 'RunnerReady',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    expect(tlsReadiness(undefined)).toEqual({ ready: false });
    expect(tlsReadiness([available])).toEqual({ ready: false });
  });
});
