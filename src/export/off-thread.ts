/**
 * Exports written on a thread of their own at the lowest priority (nice 19, SCHED_IDLE): building the documents, validating them against
 * the CRDs and copying the model's files out of the store take a worker's time, never the time of the
 * thread that answers scoring requests. The worker stays for the next export (its compiled validators
 * with it).
 */
import { Worker } from "node:worker_threads";
import { type Code, PierError, type PierErrorJson } from "../shared/index.js";
import type { ExportResult } from "./azureml.js";
import type { ExportSource } from "./facts.js";

export interface ExportJob {
  target: "azureml" | "kserve";
  source: Omit<ExportSource, "materialize">;
  /** The artifact store's root, where the model's files are read from. */
  artifacts: string;
  /** The folder the export is written into. */
  dir: string;
  storageUri?: string;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: ExportResult) => void; reject: (e: Error) => void }>();

function exportThread(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL("./export-worker.js", import.meta.url));
  started.on(
    "message",
    ({ id, result, error }: { id: number; result?: ExportResult; error?: PierErrorJson }) => {
      const waiting = pending.get(id);
      pending.delete(id);
      if (pending.size === 0) started.unref();
      if (error)
        waiting?.reject(
          new PierError({
            code: error.code as Code,
            summary: error.summary,
            details: error.details,
            ...(error.fix ? { fix: error.fix } : {}),
            ...(error.data ? { data: error.data } : {}),
          }),
        );
      else waiting?.resolve(result!);
    },
  );
  const fail = (error: Error) => {
    if (worker === started) worker = undefined;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  started.on("error", fail);
  started.on("exit", (code) => fail(new Error(`the export thread ended (exit ${code})`)));
  // After its listeners (adding one refs it again): idle, it keeps no process alive.
  started.unref();
  worker = started;
  return started;
}

/** Writes an export into `job.dir` on the export thread. */
export function exportOffThread(job: ExportJob): Promise<ExportResult> {
  const thread = exportThread();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    thread.ref();
    thread.postMessage({ id, job });
  });
}
