/**
 * Exports written on a thread of their own at the lowest priority (nice 19, SCHED_IDLE): building the documents, validating them against
 * the CRDs and copying the model's files out of the store take a worker's time, never the time of the
 * thread that answers scoring requests. The worker stays for the next export (its compiled validators
 * with it).
 */
import { JobThread } from "../shared/index.js";
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

const thread = new JobThread<ExportJob, ExportResult>(
  new URL("./export-worker.js", import.meta.url),
  "export",
);

/** Writes an export into `job.dir` on the export thread. */
export function exportOffThread(job: ExportJob): Promise<ExportResult> {
  return thread.run(job);
}
