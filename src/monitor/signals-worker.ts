/** The monitoring worker thread: reads a deployment's captured data and measures it, off pier up's thread. */
import { parentPort } from "node:worker_threads";
import { lowerThreadPriority } from "../shared/index.js";
import { readCaptured } from "./read.js";
import { deploymentSignals, type SignalJob } from "./signals.js";

// Reading a window of 100k records is bulk work: scoring requests come first.
void lowerThreadPriority();

parentPort?.on("message", ({ id, job }: { id: number; job: SignalJob }) => {
  try {
    const captured = readCaptured(job.home, job.endpoint, job.deployment, job.from, job.to);
    parentPort?.postMessage({ id, result: deploymentSignals({ ...job, captured }) });
  } catch (error) {
    parentPort?.postMessage({ id, error: (error as Error).stack ?? String(error) });
  }
});
