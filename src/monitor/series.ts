/**
 * Requests over time: per deployment and minute, how many scoring requests came, how many failed
 * (5xx, 408, 424: the deployment's fault) or were refused (other 4xx), and latency percentiles. The
 * current minute is kept in memory and written to pier.db (table request_minutes) when it ends, so
 * a report or an alert rule can look back over hours and across restarts of pier.
 */
import { nearestRank, type PierDatabase } from "../shared/index.js";

const MINUTE_MS = 60_000;
/** Latencies kept per deployment and minute for its percentiles. */
const SAMPLES_PER_MINUTE = 4000;
/** Minutes older than this are deleted. */
const RETENTION_MS = 30 * 86_400_000;

export const SERIES_MIGRATIONS = [
  {
    name: "monitor-001",
    sql: `
      CREATE TABLE request_minutes (
        endpoint TEXT NOT NULL,
        deployment TEXT NOT NULL,
        minute INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        refused INTEGER NOT NULL,
        p50_ms REAL,
        p90_ms REAL,
        p99_ms REAL,
        max_ms REAL,
        PRIMARY KEY (endpoint, deployment, minute)
      );
    `,
  },
];

export interface MinuteStats {
  endpoint: string;
  deployment: string;
  /** The minute's start, ms since the epoch. */
  minute: number;
  requests: number;
  errors: number;
  refused: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** Whether an answer's status is the deployment's failure (what an error rate counts). */
const isFailure = (status: number): boolean => status >= 500 || status === 408 || status === 424;

class OpenMinute {
  requests = 0;
  errors = 0;
  refused = 0;
  seen = 0;
  readonly latencies: number[] = [];

  constructor(
    readonly endpoint: string,
    readonly deployment: string,
    readonly minute: number,
  ) {}

  add(status: number, ms: number): void {
    this.requests++;
    if (isFailure(status)) this.errors++;
    else if (status >= 400) this.refused++;
    else {
      // A reservoir: every success has the same chance of being kept.
      this.seen++;
      if (this.latencies.length < SAMPLES_PER_MINUTE) this.latencies.push(ms);
      else {
        const slot = Math.floor(Math.random() * this.seen);
        if (slot < SAMPLES_PER_MINUTE) this.latencies[slot] = ms;
      }
    }
  }

  stats(): MinuteStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number) => nearestRank(sorted, p) ?? null;
    return {
      endpoint: this.endpoint,
      deployment: this.deployment,
      minute: this.minute,
      requests: this.requests,
      errors: this.errors,
      refused: this.refused,
      p50_ms: at(0.5),
      p90_ms: at(0.9),
      p99_ms: at(0.99),
      max_ms: sorted.length ? sorted[sorted.length - 1]! : null,
    };
  }
}

/** Seconds of live traffic kept per deployment (the dashboard's charts). */
const LIVE_SECONDS = 180;
const SAMPLES_PER_SECOND = 200;

export interface SecondStats {
  /** The second's start, ms since the epoch. */
  t: number;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

class LiveSecond {
  requests = 0;
  errors = 0;
  readonly latencies: number[] = [];
  constructor(readonly t: number) {}
}

export class RequestSeries {
  readonly #open = new Map<string, OpenMinute>();
  readonly #live = new Map<string, LiveSecond[]>();
  readonly #db: PierDatabase;
  #lastPrune = 0;

  constructor(db: PierDatabase) {
    this.#db = db;
  }

  /** Counts one scoring request's outcome (the gateway calls this for every one). */
  observe(endpoint: string, deployment: string, status: number, ms: number, now = Date.now()): void {
    const key = `${endpoint}\u0000${deployment}`;
    const minute = now - (now % MINUTE_MS);
    let open = this.#open.get(key);
    if (open && open.minute !== minute) {
      this.#save([open.stats()]);
      open = undefined;
    }
    if (!open) {
      open = new OpenMinute(endpoint, deployment, minute);
      this.#open.set(key, open);
    }
    open.add(status, ms);
    const second = now - (now % 1000);
    let live = this.#live.get(key);
    if (!live) {
      live = [];
      this.#live.set(key, live);
    }
    let last = live[live.length - 1];
    if (!last || last.t !== second) {
      last = new LiveSecond(second);
      live.push(last);
      while (live.length && live[0]!.t <= second - LIVE_SECONDS * 1000) live.shift();
    }
    last.requests++;
    if (isFailure(status)) last.errors++;
    else if (status < 400 && last.latencies.length < SAMPLES_PER_SECOND) last.latencies.push(ms);
  }

  /** A deployment's last LIVE_SECONDS seconds, one entry a second (empty seconds included), oldest first. */
  live(endpoint: string, deployment: string, now = Date.now()): SecondStats[] {
    const seconds = new Map((this.#live.get(`${endpoint}\u0000${deployment}`) ?? []).map((s) => [s.t, s]));
    const end = now - (now % 1000);
    const out: SecondStats[] = [];
    for (let t = end - (LIVE_SECONDS - 1) * 1000; t <= end; t += 1000) {
      const s = seconds.get(t);
      const sorted = s ? [...s.latencies].sort((a, b) => a - b) : [];
      const at = (p: number) => nearestRank(sorted, p) ?? null;
      out.push({ t, requests: s?.requests ?? 0, errors: s?.errors ?? 0, p50_ms: at(0.5), p99_ms: at(0.99) });
    }
    return out;
  }

  /** Writes every minute that has ended (and, with `all`, the current ones too). */
  flush(all = false, now = Date.now()): void {
    const ended: MinuteStats[] = [];
    for (const [key, open] of this.#open)
      if (all || open.minute + MINUTE_MS <= now) {
        ended.push(open.stats());
        this.#open.delete(key);
      }
    this.#save(ended);
    if (now - this.#lastPrune > 3_600_000) {
      this.#lastPrune = now;
      this.#db.prepare("DELETE FROM request_minutes WHERE minute < ?").run(now - RETENTION_MS);
    }
  }

  #save(minutes: MinuteStats[]): void {
    if (minutes.length === 0) return;
    // Two processes' minutes (a restart within a minute) add up; the later percentiles stand.
    const upsert = this.#db.prepare(`
      INSERT INTO request_minutes (endpoint, deployment, minute, requests, errors, refused, p50_ms, p90_ms, p99_ms, max_ms)
      VALUES (@endpoint, @deployment, @minute, @requests, @errors, @refused, @p50_ms, @p90_ms, @p99_ms, @max_ms)
      ON CONFLICT (endpoint, deployment, minute) DO UPDATE SET
        requests = requests + excluded.requests, errors = errors + excluded.errors,
        refused = refused + excluded.refused, p50_ms = coalesce(excluded.p50_ms, p50_ms),
        p90_ms = coalesce(excluded.p90_ms, p90_ms), p99_ms = coalesce(excluded.p99_ms, p99_ms),
        max_ms = max(coalesce(excluded.max_ms, 0), coalesce(max_ms, 0))`);
    this.#db.transaction(() => {
      for (const m of minutes) upsert.run(m);
    })();
  }

  /** A deployment's minutes from `from` on (ms), the current one included, oldest first. */
  minutes(endpoint: string, deployment: string | undefined, from: number): MinuteStats[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM request_minutes WHERE endpoint = ? ${deployment ? "AND deployment = ?" : ""} AND minute >= ? ORDER BY minute`,
      )
      .all(...(deployment ? [endpoint, deployment, from] : [endpoint, from])) as MinuteStats[];
    for (const open of this.#open.values())
      if (
        open.endpoint === endpoint &&
        (!deployment || open.deployment === deployment) &&
        open.minute >= from
      )
        rows.push(open.stats());
    return rows.sort((a, b) => a.minute - b.minute);
  }
}
