/**
 * Worker threads that prepare large request bodies (parse, check against the model, write for the
 * instance), so that a 4 MiB body takes a worker's time rather than the gateway thread's, which goes
 * on answering small requests meanwhile. Small bodies are prepared in place: a thread hop costs more
 * than they do.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import {
  outcomeValue,
  type Prepared,
  type PrepareJob,
  type PrepareOutcome,
  prepareRequest,
} from "./prepare.js";

/** Bodies from this size on go to a worker. */
export const OFFLOAD_BYTES = 256 * 1024;

interface Pending {
  resolve: (outcome: PrepareOutcome) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class PreparePool {
  readonly #workers: PoolWorker[] = [];
  readonly #size: number;
  #nextId = 1;
  #closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    this.#size = size;
  }

  /** Prepares a request: in place when it is small, on the least busy worker when it is large. */
  async prepare(job: PrepareJob): Promise<Prepared> {
    if (job.body.byteLength < OFFLOAD_BYTES || this.#closed) return prepareRequest(job);
    const slot = this.#leastBusy();
    const id = this.#nextId++;
    const outcome = await new Promise<PrepareOutcome>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job });
    });
    return outcomeValue(outcome);
  }

  #leastBusy(): PoolWorker {
    if (this.#workers.length < this.#size) {
      const idle = this.#workers.find((w) => w.pending.size === 0);
      if (idle) return idle;
      return this.#spawn();
    }
    return this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #spawn(): PoolWorker {
    const worker = new Worker(new URL("./prepare-worker.js", import.meta.url));
    const slot: PoolWorker = { worker, pending: new Map() };
    worker.unref();
    worker.on("message", ({ id, outcome }: { id: number; outcome: PrepareOutcome }) => {
      const pending = slot.pending.get(id);
      slot.pending.delete(id);
      pending?.resolve(outcome);
    });
    // A worker that fails takes its requests with it (each gets pier's generic 500) and is replaced.
    const fail = (error: Error) => {
      this.#workers.splice(this.#workers.indexOf(slot), 1);
      for (const pending of slot.pending.values()) pending.reject(error);
      slot.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.#workers.includes(slot)) fail(new Error(`prepare worker exited with code ${code}`));
    });
    this.#workers.push(slot);
    return slot;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
