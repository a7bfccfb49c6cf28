/**
 * The job thread pier up keeps its management work on: a job's result or its PierError as it was
 * thrown there, and a thread that ends when idle and starts again for the next job.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { JobThread, PierError } from "../../src/shared/index.js";

test("results and PierErrors cross the thread; an idle thread ends and the next job starts a new one", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pier-job-thread-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const shared = pathToFileURL(join(import.meta.dirname, "../../src/shared/index.js")).href;
  const script = join(dir, "worker.mjs");
  writeFileSync(
    script,
    `import { threadId } from "node:worker_threads";
     import { serveJobs, userError } from ${JSON.stringify(shared)};
     serveJobs((job) => {
       if (job.fail) throw userError("BadArgument", "no such thing", "Ask for another.");
       return { doubled: job.n * 2, threadId };
     });`,
  );
  const thread = new JobThread<{ n: number; fail?: boolean }, { doubled: number; threadId: number }>(
    pathToFileURL(script),
    "test",
    50,
  );
  t.after(() => thread.close());
  const first = await thread.run({ n: 21 });
  assert.equal(first.doubled, 42);
  await assert.rejects(thread.run({ n: 1, fail: true }), (error: unknown) => {
    assert.ok(error instanceof PierError);
    assert.equal(error.code, "BadArgument");
    assert.equal(error.fix, "Ask for another.");
    return true;
  });
  assert.equal((await thread.run({ n: 2 })).threadId, first.threadId, "the same thread while busy");
  // Idle past 50 ms, the thread ends; the next job gets a new one, and nothing pending is lost.
  let next = await thread.run({ n: 3 });
  const deadline = Date.now() + 10_000;
  while (next.threadId === first.threadId && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    next = await thread.run({ n: 3 });
  }
  assert.notEqual(next.threadId, first.threadId, "a new thread after an idle one ended");
  assert.equal(next.doubled, 6);
});
