/** The export thread (off-thread.ts): writes exports into pier's staging folders, at the background priority, one at a time. */
import { parentPort } from "node:worker_threads";
import { materializeBlobs } from "../registry/index.js";
import { lowerThreadPriority, toPierError } from "../shared/index.js";
import { exportAzureMl } from "./azureml.js";
import { exportKserve } from "./kserve.js";
import type { ExportJob } from "./off-thread.js";

void lowerThreadPriority();

parentPort?.on("message", ({ id, job }: { id: number; job: ExportJob }) => {
  try {
    const source = {
      ...job.source,
      materialize: (files: { path: string; sha256: string; size: number }[], dir: string) =>
        materializeBlobs(job.artifacts, files, dir),
    };
    const result =
      job.target === "azureml"
        ? exportAzureMl(source, job.dir)
        : exportKserve(source, job.dir, job.storageUri ?? "");
    parentPort?.postMessage({ id, result });
  } catch (error) {
    parentPort?.postMessage({ id, error: toPierError(error).toJSON() });
  }
});
