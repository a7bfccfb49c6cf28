/**
 * The registry's file thread (file-work.ts): registers model folders (validation, pickle scan,
 * hashing, copying into the store) and writes a version's files out of the store, with synchronous
 * file I/O that would stall the thread answering requests. The registry it opens is the same pier.db.
 */
import { serveJobs } from "../shared/index.js";
import { materializeBlobs } from "./artifact-store.js";
import type { FileJob } from "./file-work.js";
import { Registry } from "./registry.js";

// Not lowered: a deployment create, a restore and `pier up`'s first start wait on this thread, and at
// SCHED_IDLE a machine busy with other processes starved it (pier up never finished its start).
const opened = new Map<string, Registry>();

serveJobs(async (job: FileJob) => {
  if (job.kind === "materialize") return materializeBlobs(job.root, job.entries, job.dir);
  let registry = opened.get(job.home);
  if (!registry) {
    registry = Registry.open(job.home);
    opened.set(job.home, registry);
  }
  return registry.register(job.dir, job.options);
});
