/**
 * The controller loop: Nodes through kube/'s informer (list+watch, relist on 410, back-off), and a
 * reconcile of the node's overlay after every change to the set of peers and every `resyncMs` (which
 * repairs drift: a link deleted by hand, a flushed chain). FIX: upstream lists Nodes every 30 s and
 * exits on the first API error; here a new node is a tunnel peer as soon as its Node object has an
 * address, a node gone stops being one, and API or command failures are retried with back-off.
 */
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff, systemClock, type Clock, type TimerHandle } from '../host';
import { Informer } from '../kube';
import { decodeAs } from '../kube/client-node';
import type { NetworkTools } from './network-tools';
import { peerAddresses } from './peers';
import { changed, reconcileOverlay } from './reconcile';
import type { OverlaySettings } from './settings';

export interface VxlanControllerOptions {
  readonly settings: OverlaySettings;
  /** This node's name (NODE_NAME): excluded from the peers along with `settings.localIp`. */
  readonly nodeName?: string;
  readonly kubeConfig: KubeConfig;
  readonly tools: NetworkTools;
  readonly resyncMs: number;
  readonly clock?: Clock;
  readonly log: Logger;
}

export class VxlanController {
  private readonly nodes: Informer<V1Node>;
  private readonly clock: Clock;
  private readonly backoff = new Backoff({ baseMs: 500, maxMs: 30_000 });
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = true;
  private lastPeers: string | undefined;
  private reconciled = false;

  constructor(private readonly o: VxlanControllerOptions) {
    this.clock = o.clock ?? systemClock;
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.nodes = new Informer<V1Node>({
      name: 'nodes',
      kubeConfig: o.kubeConfig,
      path: '/api/v1/nodes',
      list: () => core.listNode(),
      decode: decodeAs<V1Node>('V1Node'),
      clock: this.clock,
      onError: (err, retryInMs) =>
        o.log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs }, 'node watch failed'),
    });
    // Status heartbeats update every Node every few seconds: reconcile only when the peers change.
    // Not before the first list is complete: a pass on a half-filled cache would drop the tunnels
    // to the nodes not listed yet (start() runs the first pass).
    this.nodes.on(() => {
      if (this.nodes.hasSynced() && this.peers().join(',') !== this.lastPeers) this.trigger();
    });
  }

  /** Lists the Nodes, then reconciles once before resolving (links exist when it returns). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.nodes.start();
    this.trigger();
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.nodes.stop();
    await this.running;
  }

  /** True once a pass has completed without error (readiness). */
  get ready(): boolean {
    return this.reconciled;
  }

  peers(): string[] {
    return peerAddresses(this.nodes.list(), { localIp: this.o.settings.localIp, nodeName: this.o.nodeName });
  }

  /** Runs a pass now, or once more after the running one (never two at once). */
  private trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.timer?.cancel();
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.dirty) {
        this.dirty = false;
        this.trigger();
      }
    });
  }

  private async pass(): Promise<void> {
    const peers = this.peers();
    let nextMs = this.o.resyncMs;
    try {
      const changes = await reconcileOverlay(this.o.settings, peers, this.o.tools);
      this.lastPeers = peers.join(',');
      this.reconciled = true;
      this.backoff.reset();
      if (changed(changes)) this.o.log.info({ peers, ...changes }, 'overlay reconciled');
      else this.o.log.debug({ peers }, 'overlay in place');
    } catch (err) {
      nextMs = this.backoff.next();
      this.o.log.error(
        { err: err instanceof Error ? err.message : String(err), retryInMs: nextMs },
        'overlay reconcile failed',
      );
    }
    if (!this.stopped) this.timer = this.clock.setTimer(nextMs, () => this.trigger());
  }
}
