/**
 * Loses chosen status writes on a real API server: a validating admission webhook (HTTPS, served by
 * the test process) registered for the status subresources of VMs and migrations that refuses the
 * writes a rule matches, for a window of time, and admits everything else. The operator sees exactly
 * what a lost write looks like to it — its patch failed and nothing was stored — with no fake API.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { generateWebhookCertificates } from '../../operator/webhooks';

export interface StatusWrite {
  readonly resource: string;
  readonly name: string;
  readonly namespace: string;
  readonly oldObject: { status?: Record<string, unknown> } | undefined;
  readonly object: { status?: Record<string, unknown> } | undefined;
}

export interface DropRule {
  readonly name: string;
  readonly matches: (w: StatusWrite) => boolean;
  /** Refuse matching writes for this long after the first one. */
  readonly windowMs: number;
  /** When each refused write arrived. */
  readonly refused: number[];
}

const CONFIGURATION = 'neonvm-faults-write-dropper';

export class WriteDropper {
  private server: Server | undefined;
  private readonly rules: DropRule[] = [];

  constructor(private readonly kubeConfig: KubeConfig) {}

  async start(): Promise<void> {
    const certs = await generateWebhookCertificates({ dnsNames: [], ips: ['127.0.0.1'], validDays: 2 });
    const server = (this.server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          request: {
            uid: string;
            name: string;
            namespace: string;
            resource: { resource: string };
            subResource?: string;
            object?: StatusWrite['object'];
            oldObject?: StatusWrite['oldObject'];
          };
        };
        const r = review.request;
        const write: StatusWrite = {
          resource: `${r.resource.resource}/${r.subResource ?? ''}`,
          name: r.name,
          namespace: r.namespace,
          object: r.object,
          oldObject: r.oldObject,
        };
        const rule = this.rules.find((x) => this.refuses(x, write));
        const response = rule
          ? {
              uid: r.uid,
              allowed: false,
              status: { code: 503, message: `fault injection: status write lost (${rule.name})` },
            }
          : { uid: r.uid, allowed: true };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    await this.kubeConfig.makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({
      body: {
        metadata: { name: CONFIGURATION },
        webhooks: [
          {
            name: 'drop.faults.neonvm.test',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            // Our own faults must never wedge the cluster: if this server is gone, writes pass.
            failurePolicy: 'Ignore',
            timeoutSeconds: 5,
            clientConfig: {
              url: `https://127.0.0.1:${port}/drop`,
              caBundle: Buffer.from(certs.caCert).toString('base64'),
            },
            rules: [
              {
                apiGroups: ['vm.neon.tech'],
                apiVersions: ['v1'],
                operations: ['UPDATE'],
                resources: ['virtualmachines/status', 'virtualmachinemigrations/status'],
              },
            ],
          },
        ],
      },
    });
  }

  /** Refuses the writes `matches` selects for `windowMs` from the first one. */
  drop(name: string, matches: (w: StatusWrite) => boolean, windowMs: number): DropRule {
    const rule: DropRule = { name, matches, windowMs, refused: [] };
    this.rules.push(rule);
    return rule;
  }

  async stop(): Promise<void> {
    await this.kubeConfig
      .makeApiClient(AdmissionregistrationV1Api)
      .deleteValidatingWebhookConfiguration({ name: CONFIGURATION })
      .catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private refuses(rule: DropRule, w: StatusWrite): boolean {
    if (!rule.matches(w)) return false;
    const first = rule.refused[0];
    if (first !== undefined && Date.now() - first > rule.windowMs) return false;
    rule.refused.push(Date.now());
    return true;
  }
}
