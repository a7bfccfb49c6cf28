/**
 * What clients got from each deployment, kept by the gateway for the doctor: counts by status,
 * recent latencies, and how many clients came at once. Kept per live generation of a deployment
 * (its target), so a new create or update starts from nothing.
 */
import type { DeploymentTarget, RequestSummary } from "../engine/index.js";
import type { ModelFailure } from "../runtime/index.js";
import { type Code, RecentSamples } from "../shared/index.js";

/** Successful request latencies kept per deployment. */
const LATENCY_SAMPLES = 2000;
/** A client counts as "at once" with others when it sent a request within this window. */
const CLIENT_WINDOW_MS = 1000;

/** Why a request was refused: the code the client got and its message. */
export interface Refusal {
  code: Code;
  message: string;
}

class DeploymentRequests {
  readonly outcomes = new Map<number, number>();
  /** Requests refused as not fitting the model (400), by code, with the latest message. */
  readonly refused = new Map<Code, { count: number; message: string }>();
  /** Requests the model failed (424), by what its host named, with the latest such failure. */
  readonly failures = new Map<Code, ModelFailure & { count: number }>();
  readonly latenciesMs = new RecentSamples(LATENCY_SAMPLES);
  /** Requests inside the gateway now, and the most at once. */
  active = 0;
  peakActive = 0;
  /**
   * The most client connections that sent requests within one window: how many clients want to be
   * served at once, even when most of their requests are refused with 429 as soon as they arrive.
   */
  peakClients = 0;
  readonly #clients = new Map<object, number>();

  enter(connection: object): void {
    this.active++;
    if (this.active > this.peakActive) this.peakActive = this.active;
    const now = performance.now();
    this.#clients.set(connection, now);
    if (this.#clients.size > this.peakClients) {
      for (const [c, seen] of this.#clients) if (now - seen > CLIENT_WINDOW_MS) this.#clients.delete(c);
      this.peakClients = Math.max(this.peakClients, this.#clients.size);
    }
  }

  #p99 = { value: 0, at: -Infinity };

  /** The 99th percentile of recent successful latencies (recomputed at most twice a second); 0 before 20 samples. */
  p99(): number {
    const now = performance.now();
    if (now - this.#p99.at > 500) {
      const values = this.latenciesMs.values();
      const sorted = values.length >= 20 ? [...values].sort((a, b) => a - b) : [];
      this.#p99 = { value: sorted.length ? sorted[Math.floor(sorted.length * 0.99)]! : 0, at: now };
    }
    return this.#p99.value;
  }

  leave(status: number, ms: number, refusal?: Refusal, failure?: ModelFailure): void {
    this.active--;
    this.outcomes.set(status, (this.outcomes.get(status) ?? 0) + 1);
    if (status === 424 && failure)
      this.failures.set(failure.code, {
        ...failure,
        count: (this.failures.get(failure.code)?.count ?? 0) + 1,
      });
    if (status >= 400 && status < 500 && status !== 408 && status !== 424 && status !== 429 && refusal)
      this.refused.set(refusal.code, {
        count: (this.refused.get(refusal.code)?.count ?? 0) + 1,
        message: refusal.message.slice(0, 300),
      });
    if (status === 200) this.latenciesMs.push(ms);
  }
}

export class RequestStats {
  readonly #byTarget = new WeakMap<DeploymentTarget, DeploymentRequests>();

  /** The counters of a target, created on its first request. */
  of(target: DeploymentTarget): DeploymentRequests {
    let stats = this.#byTarget.get(target);
    if (!stats) {
      stats = new DeploymentRequests();
      this.#byTarget.set(target, stats);
    }
    return stats;
  }

  /** What the doctor reads; undefined before the target's first request. */
  readonly summary = (target: DeploymentTarget): RequestSummary | undefined => {
    const stats = this.#byTarget.get(target);
    if (!stats) return undefined;
    return {
      outcomes: Object.fromEntries([...stats.outcomes].map(([k, v]) => [String(k), v])),
      latenciesMs: stats.latenciesMs.values(),
      peakConcurrentRequests: Math.max(stats.peakActive, stats.peakClients),
      refused: Object.fromEntries(stats.refused),
      failures: Object.fromEntries(stats.failures),
    };
  };
}
