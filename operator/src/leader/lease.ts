/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's
 * leaderelection package:
 *
 * - A candidate takes the Lease when it is absent, released (no holder), or
 *   not renewed for leaseDuration as measured by the candidate's own clock
 *   since it last saw the record change (so clock skew between replicas does
 *   not matter). Every write carries the read resourceVersion: of two
 *   candidates racing, one gets 409 and stays a follower.
 * - The leader renews every retryPeriod. If it cannot renew for renewDeadline
 *   (< leaseDuration) it stops leading *before* anyone else may take over, so
 *   two replicas never both act as leader.
 * - stop() releases the Lease (holder cleared, duration 1 s) so a successor
 *   takes over at once, as on SIGTERM.
 *
 * onStartedLeading/onStoppedLeading are called in order, never overlapping.
 */
import type { Logger } from '../../../proxy/src/http/logger.ts';
import type { KubeClient } from '../kube/client.ts';
import { toMicroTime } from '../kube/client.ts';
import { describeError, isConflict } from '../kube/errors.ts';
import type { KubeObject, ResourceKind } from '../kube/resources.ts';
import { withDefaults } from '../util/defaults.ts';

export const LeaseKind: ResourceKind = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export class LeaderElector {
  private readonly o: Required<LeaderElectorOptions>;
  private leading = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private observed: { record: string; at: number } | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.o = withDefaults({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, opts);
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs)
      throw new Error('renewDeadline must be below leaseDuration');
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop competing; if leading, stop leading and (by default) release the Lease. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.o.onStoppedLeading();
      if (opts.release !== false) await this.release();
    }
  }

  private async run(): Promise<void> {
    let lastRenew = 0;
    while (this.running) {
      const ok = await this.tryAcquireOrRenew();
      if (!this.running) return;
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.o.logger.info('became leader', { lease: this.o.name, identity: this.o.identity });
          await this.o.onStartedLeading();
        }
      } else if (this.leading && now - lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.o.logger.warn('lost leadership: could not renew the Lease in time', { lease: this.o.name });
        await this.o.onStoppedLeading();
      }
      const jitter = this.leading ? 1 : 1 + Math.random() * 0.2;
      await this.sleep(this.o.retryPeriodMs * jitter);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const { client, namespace, name, identity } = this.o;
    const leaseDurationSeconds = Math.ceil(this.o.leaseDurationMs / 1000);
    try {
      const existing = await client.get(LeaseKind, name, namespace);
      if (!existing) {
        await client.create(
          LeaseKind,
          this.lease(undefined, {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: toMicroTime(now),
            renewTime: toMicroTime(now),
            leaseTransitions: 0,
          }),
        );
        return true;
      }
      const spec = (existing.spec ?? {}) as LeaseSpec;
      const record = JSON.stringify([
        spec.holderIdentity,
        spec.renewTime,
        spec.acquireTime,
        spec.leaseTransitions,
      ]);
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== identity;
      const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (heldByOther && this.observed.at + durationMs > now) return false;
      const mine = spec.holderIdentity === identity;
      const next: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : toMicroTime(now),
        renewTime: toMicroTime(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      };
      const written = await client.replace(LeaseKind, this.lease(existing, next));
      this.observed = {
        record: JSON.stringify([
          next.holderIdentity,
          written.spec?.renewTime,
          written.spec?.acquireTime,
          next.leaseTransitions,
        ]),
        at: now,
      };
      return true;
    } catch (err) {
      if (!isConflict(err))
        this.o.logger.warn('lease update failed', { lease: name, error: describeError(err) });
      return false;
    }
  }

  private async release(): Promise<void> {
    try {
      const existing = await this.o.client.get(LeaseKind, this.o.name, this.o.namespace);
      const spec = (existing?.spec ?? {}) as LeaseSpec;
      if (!existing || spec.holderIdentity !== this.o.identity) return;
      const now = toMicroTime(Date.now());
      await this.o.client.replace(
        LeaseKind,
        this.lease(existing, {
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: spec.leaseTransitions,
        }),
      );
      this.o.logger.info('released the leader Lease', { lease: this.o.name });
    } catch (err) {
      this.o.logger.warn('releasing the Lease failed', { lease: this.o.name, error: describeError(err) });
    }
  }

  private lease(existing: KubeObject | undefined, spec: LeaseSpec): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: existing
        ? { ...existing.metadata }
        : {
            name: this.o.name,
            namespace: this.o.namespace,
            labels: { 'app.kubernetes.io/name': 'orchard-operator' },
          },
      spec: spec as Record<string, unknown>,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
