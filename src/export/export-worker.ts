/** The export thread (off-thread.ts): writes exports into pier's staging folders, at the lowest priority, one at a time. */
import { materializeBlobs } from "../registry/index.js";
import { lowerThreadPriority, serveJobs } from "../shared/index.js";
import { exportAzureMl } from "./azureml.js";
import { exportKserve } from "./kserve.js";
import type { ExportJob } from "./off-thread.js";

void lowerThreadPriority();

serveJobs((job: ExportJob) => {
  const source = {
    ...job.source,
    materialize: (files: { path: string; sha256: string; size: number }[], dir: string) =>
      materializeBlobs(job.artifacts, files, dir),
  };
  return job.target === "azureml"
    ? exportAzureMl(source, job.dir)
    : exportKserve(source, job.dir, job.storageUri ?? "");
});
