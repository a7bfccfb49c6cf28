/** The monitoring worker thread: reads a deployment's captured data and measures it, off pier up's thread. */
import { lowerThreadPriority, serveJobs } from "../shared/index.js";
import { readCaptured } from "./read.js";
import { deploymentSignals, type SignalJob } from "./signals.js";

// Reading a window of 100k records is bulk work: scoring requests come first.
void lowerThreadPriority();

serveJobs((job: SignalJob) => {
  const captured = readCaptured(job.home, job.endpoint, job.deployment, job.from, job.to);
  return deploymentSignals({ ...job, captured });
});
