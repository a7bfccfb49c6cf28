/** A worker thread of the prepare pool: prepares the large requests it is sent, one at a time. */
import { parentPort } from "node:worker_threads";
import { lowerThreadPriority } from "../shared/index.js";
import { type PrepareJob, prepareOutcome } from "./prepare.js";

// Large bodies are bulk work: the gateway thread, answering small requests, comes first.
void lowerThreadPriority();

parentPort?.on("message", ({ id, job }: { id: number; job: PrepareJob }) => {
  parentPort?.postMessage({ id, outcome: prepareOutcome(job) });
});
