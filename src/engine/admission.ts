/**
 * Admission for one deployment: at most max_concurrent_requests_per_instance in flight per Ready
 * instance, a bounded FIFO queue behind them, and 429 once 2 × that × instance_count requests are
 * in the building (Azure's rule). A queued request that waits past its deadline gets 408.
 */

/** What admission needs of an instance: whether it takes requests now, and how many it is handling. */
export interface AdmissionSlot {
  readonly routable: boolean;
  inFlight: number;
}

export type Admitted<S extends AdmissionSlot> =
  | { ok: true; instance: S; release: () => void }
  | { ok: false; reason: "overloaded" | "timeout" | "no-instance" };

interface Waiter<S extends AdmissionSlot> {
  resolve: (result: Admitted<S>) => void;
  timer: NodeJS.Timeout;
  exclude: S | undefined;
}

export class Admission<S extends AdmissionSlot> {
  #queue: Waiter<S>[] = [];
  #cursor = 0;
  /** Requests in flight or queued, and their integral over time (request·ms) up to #changedAt. */
  #demand = 0;
  #demandArea = 0;
  #changedAt = performance.now();

  /**
   * `instanceCount` is what the 429 rule counts: instance_count, or max_instances for a deployment
   * that scales (Azure reserves quota for max_instances, and a burst waits for the scale-up).
   */
  constructor(
    private readonly instances: () => readonly S[],
    private readonly maxConcurrent: number,
    private readonly instanceCount: number,
  ) {}

  #account(delta: number): void {
    const now = performance.now();
    this.#demandArea += this.#demand * (now - this.#changedAt);
    this.#changedAt = now;
    this.#demand += delta;
  }

  /**
   * Requests in flight or queued, integrated over time (request·ms) since admission began: the
   * difference of two readings over their interval is the mean demand (what autoscaling reads).
   */
  demandArea(): number {
    return this.#demandArea + this.#demand * (performance.now() - this.#changedAt);
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.instances().reduce((sum, i) => sum + i.inFlight, 0);
  }

  get limit(): number {
    return 2 * this.maxConcurrent * this.instanceCount;
  }

  /** A Ready instance with a free slot, round-robin, avoiding `exclude` (a retry's failed instance). */
  #freeInstance(exclude?: S): S | undefined {
    const list = this.instances();
    for (let k = 0; k < list.length; k++) {
      const instance = list[(this.#cursor + k) % list.length]!;
      if (instance !== exclude && instance.routable && instance.inFlight < this.maxConcurrent) {
        this.#cursor = (this.#cursor + k + 1) % list.length;
        return instance;
      }
    }
    return undefined;
  }

  #grant(instance: S): Admitted<S> {
    instance.inFlight++;
    this.#account(1);
    let released = false;
    return {
      ok: true,
      instance,
      release: () => {
        if (released) return;
        released = true;
        instance.inFlight--;
        this.#account(-1);
        this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const instance = this.#freeInstance(this.#queue[0]!.exclude);
      if (!instance) return;
      const waiter = this.#queue.shift()!;
      this.#account(-1);
      clearTimeout(waiter.timer);
      waiter.resolve(this.#grant(instance));
    }
  }

  /** Waits for a slot for at most `timeoutMs`. */
  acquire(timeoutMs: number, exclude?: S): Promise<Admitted<S>> {
    if (!this.instances().some((i) => i.routable && i !== exclude))
      return Promise.resolve({ ok: false, reason: "no-instance" });
    if (this.inFlight + this.#queue.length >= this.limit)
      return Promise.resolve({ ok: false, reason: "overloaded" });
    const instance = this.#queue.length === 0 ? this.#freeInstance(exclude) : undefined;
    if (instance) return Promise.resolve(this.#grant(instance));
    return new Promise((resolve) => {
      const waiter: Waiter<S> = {
        resolve,
        exclude,
        timer: setTimeout(() => {
          this.#queue = this.#queue.filter((w) => w !== waiter);
          this.#account(-1);
          resolve({ ok: false, reason: "timeout" });
        }, timeoutMs),
      };
      this.#queue.push(waiter);
      this.#account(1);
    });
  }

  /** Wakes queued requests when an instance becomes Ready. */
  poke(): void {
    this.#drain();
  }
}
