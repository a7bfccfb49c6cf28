/**
 * The ONNX host's bulk lane. A request of BULK_BYTES or more (a batch of thousands of rows) is parsed,
 * scored and answered on a worker thread of its own, at the lowest priority (SCHED_IDLE), with its own ONNX Runtime
 * session: the host's main thread goes on answering the small requests meanwhile, and the kernel gives
 * them the CPU first. Without small requests to answer, the bulk lane has the whole CPU.
 */
import { Worker } from "node:worker_threads";
import { PierError, parseJson, userError } from "../shared/index.js";
import type { HostErrorBody, InvokeRequest } from "./host-protocol.js";
import type { OnnxScorer } from "./onnx-scorer.js";

/** Payloads from this size on take the bulk lane. */
export const BULK_BYTES = 256 * 1024;

export interface Reply {
  status: number;
  body: string;
}

/** One request's answer to an error: a 400 for input the model cannot take, a 500 with its trace for a model failure. */
export function errorAnswer(error: unknown): { status: number; body: HostErrorBody } {
  const input = error instanceof PierError && error.class === "user";
  if (!input)
    process.stderr.write(
      `${new Date().toISOString()} E [${process.pid}] onnx-host - Error: ${(error as Error).stack}\n`,
    );
  return {
    status: input ? 400 : 500,
    body: {
      error: {
        code: input ? (error as PierError).code : "ModelError",
        message: input ? (error as PierError).summary : (error as Error).message,
        kind: input ? "input" : "model",
        ...(input ? {} : { trace: (error as Error).stack ?? String(error) }),
      },
    },
  };
}

/** Parses one payload and scores it alone: its answer, or its error's. */
export async function scoreOne(scorer: OnnxScorer, payload: string): Promise<Reply> {
  let request: InvokeRequest;
  try {
    request = parseJson(payload).value as InvokeRequest;
  } catch {
    const failure = errorAnswer(userError("InvalidJson", "The request is not JSON", "Send JSON."));
    return { status: failure.status, body: JSON.stringify(failure.body) };
  }
  const [result] = await scorer.scoreMany([request]);
  if (result!.ok) return { status: 200, body: JSON.stringify(result!.value) };
  const failure = errorAnswer(result!.error);
  return { status: failure.status, body: JSON.stringify(failure.body) };
}

/** The bulk lane's worker, started at its first large request. */
export class BulkLane {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, (reply: Reply) => void>();

  constructor(
    readonly modelDir: string,
    readonly intraOpThreads: number,
  ) {}

  score(payload: Buffer): Promise<Reply> {
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ id, payload });
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./onnx-bulk-worker.js", import.meta.url), {
      workerData: { modelDir: this.modelDir, intraOpThreads: this.intraOpThreads },
    });
    worker.unref();
    worker.on("message", ({ id, reply }: { id: number; reply: Reply }) => {
      const resolve = this.#pending.get(id);
      this.#pending.delete(id);
      resolve?.(reply);
    });
    // A lane that fails answers its requests as the model's failure; the next large request starts another.
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      const failure = errorAnswer(error);
      for (const resolve of this.#pending.values())
        resolve({ status: failure.status, body: JSON.stringify(failure.body) });
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the bulk scoring thread ended (exit ${code})`)));
    return worker;
  }
}
