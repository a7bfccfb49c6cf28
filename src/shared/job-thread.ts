/**
 * A worker thread that takes jobs one message at a time and answers each with its result or its
 * error, for the work pier up keeps off the thread that answers requests (exports, monitoring reads,
 * registrations). Started on the first job; while no job is pending it keeps no process alive. A
 * PierError thrown on the thread is the same PierError here (code, summary, fix, data); anything
 * else arrives as pier's internal error with its stack.
 */
import { parentPort, Worker } from "node:worker_threads";
import { PierError, type PierErrorJson, toPierError } from "./errors.js";

interface Pending<R> {
  resolve: (result: R) => void;
  reject: (error: Error) => void;
}

export class JobThread<J, R> {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending<R>>();
  #idle: NodeJS.Timeout | undefined;
  readonly #retired = new WeakSet<Worker>();

  /**
   * `script`: the worker's module, which calls serveJobs. `name`: what the thread is, in errors.
   * `idleMs`: how long the thread waits for its next job before it ends (its heap with it); the
   * next job starts it again.
   */
  constructor(
    private readonly script: URL,
    private readonly name: string,
    private readonly idleMs = 60_000,
  ) {}

  /** Runs `job` on the thread. */
  run(job: J): Promise<R> {
    clearTimeout(this.#idle);
    const thread = this.#thread();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      thread.ref();
      thread.postMessage({ id, job });
    });
  }

  #endWhenIdle(worker: Worker): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker || this.#pending.size > 0) return;
      this.#retired.add(worker);
      this.#worker = undefined;
      void worker.terminate();
    }, this.idleMs);
    this.#idle.unref();
  }

  /** Ends the thread (jobs still pending are rejected). */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.script);
    worker.on("message", ({ id, result, error }: { id: number; result?: R; error?: PierErrorJson }) => {
      const waiting = this.#pending.get(id);
      this.#pending.delete(id);
      if (this.#pending.size === 0) {
        worker.unref();
        this.#endWhenIdle(worker);
      }
      if (error) waiting?.reject(PierError.fromJSON(error));
      else waiting?.resolve(result as R);
    });
    const fail = (error: Error) => {
      // A thread ended for being idle had no job left: the jobs pending now are its successor's.
      if (this.#retired.has(worker)) return;
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the ${this.name} thread ended (exit ${code})`)));
    // After its listeners (adding one refs it again): idle, it keeps no process alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

/** The worker's side: answers each job the parent sends with `handle`'s result or error. */
export function serveJobs<J, R>(handle: (job: J) => R | Promise<R>): void {
  parentPort?.on("message", async ({ id, job }: { id: number; job: J }) => {
    try {
      parentPort?.postMessage({ id, result: await handle(job) });
    } catch (error) {
      parentPort?.postMessage({ id, error: toPierError(error).toJSON() });
    }
  });
}
