/**
 * Steady load for the reliability suite: `clients` loops, each sending one request after another over
 * its own keep-alive connection, recording every outcome (a status, or the connection error that
 * replaced it) with when it started and ended.
 */
import { Pool } from "undici";

export interface Sample {
  start: number;
  end: number;
  /** The HTTP status, or the error code of a request that got no answer (ECONNREFUSED, ECONNRESET…). */
  status: number | string;
}

export interface LoadTarget {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** Outcomes by status, e.g. { "200": 5120, "ECONNREFUSED": 31 }. */
export function byStatus(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[String(s.status)] = (counts[String(s.status)] ?? 0) + 1;
  return counts;
}

/** Successful answers per second among the requests that ended in [from, to). */
export function throughput(samples: readonly Sample[], from: number, to: number): number {
  const ok = samples.filter((s) => s.status === 200 && s.end >= from && s.end < to).length;
  return ok / ((to - from) / 1000);
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export class Load {
  readonly samples: Sample[] = [];
  #running = true;
  readonly #pool: Pool;
  readonly #loops: Promise<void>[];

  constructor(
    target: LoadTarget,
    clients: number,
    /** How long a client waits after a connection error before it tries again (pier may be down). */
    private readonly backoffMs = 20,
  ) {
    this.#pool = new Pool(target.url, { connections: clients, pipelining: 1 });
    this.#loops = Array.from({ length: clients }, () => this.#loop(target));
  }

  async #loop(target: LoadTarget): Promise<void> {
    while (this.#running) {
      const start = performance.now();
      let status: number | string;
      try {
        const response = await this.#pool.request({
          path: target.path,
          method: "POST",
          body: target.body,
          headers: { "content-type": "application/json", ...target.headers },
        });
        await response.body.text();
        status = response.statusCode;
      } catch (error) {
        status = (error as { code?: string }).code ?? "error";
      }
      this.samples.push({ start, end: performance.now(), status });
      if (typeof status === "string") await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
    }
  }

  /** How many requests have ended with `status` so far. */
  count(status: number | string): number {
    return this.samples.filter((s) => s.status === status).length;
  }

  #stopped: Promise<void> | undefined;

  /** Ends the loops (each after its request in flight) and closes the connections; safe to call again. */
  async stop(): Promise<Sample[]> {
    this.#running = false;
    this.#stopped ??= Promise.all(this.#loops).then(() => this.#pool.close());
    await this.#stopped;
    return this.samples;
  }
}
