/** HTTPS server for the admission webhooks; certificates can be swapped live (rotation). */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errorFields, type Logger } from '../controller-kit';
import type { AdmissionReview } from './admission-review';
import { reviewResponse } from './admission-review';
import type { AdmissionHandler } from './handlers';

export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
}

const MAX_BODY = 3 * 1024 * 1024;

export class WebhookServer {
  private readonly server: Server;

  constructor(
    private readonly routes: Readonly<Record<string, AdmissionHandler>>,
    certificate: ServingCertificate,
    private readonly log: Logger,
  ) {
    this.server = createServer(
      { cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' },
      (req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        const handler = this.routes[path];
        if (path === '/healthz') return void res.writeHead(200).end('ok');
        if (!handler || req.method !== 'POST') return void res.writeHead(404).end();
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy();
          else chunks.push(c);
        });
        req.on('end', () => {
          let review: AdmissionReview;
          try {
            review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
          } catch {
            return void res.writeHead(400).end('invalid AdmissionReview');
          }
          if (!review.request) return void res.writeHead(400).end('AdmissionReview without request');
          let body: AdmissionReview;
          try {
            body = reviewResponse(handler(review.request));
          } catch (err) {
            this.log.error({ path, ...errorFields(err) }, 'admission handler failed');
            body = reviewResponse({
              uid: review.request.uid,
              allowed: false,
              status: { code: 500, message: 'internal error in admission webhook' },
            });
          }
          if (!body.response?.allowed)
            this.log.info(
              { path, name: review.request.name, message: body.response?.status?.message },
              'admission denied',
            );
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
      },
    );
  }

  /** Swaps the serving certificate for new connections. */
  setCertificate(certificate: ServingCertificate): void {
    this.server.setSecureContext({ cert: certificate.cert, key: certificate.key });
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
