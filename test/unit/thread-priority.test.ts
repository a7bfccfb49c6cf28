/**
 * Bulk and management work runs at SCHED_IDLE and nice 19, on its own thread only: the thread that
 * answers requests keeps its priority. Read back from /proc as the kernel has it (a task's stat:
 * field 19 its nice value, field 41 its policy; SCHED_IDLE is 5).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { Worker } from "node:worker_threads";

const SCHED_IDLE = 5;

function schedulingOf(task: string): { nice: number; policy: number } {
  const stat = readFileSync(`/proc/${task}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is stat's field 3 (state).
  return { nice: Number(fields[16]), policy: Number(fields[38]) };
}

test("a worker that lowers itself runs at SCHED_IDLE, nice 19; the thread that started it does not", async () => {
  const module = new URL("../../src/shared/index.js", import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require("node:worker_threads");
     const { readlinkSync } = require("node:fs");
     import(${JSON.stringify(module)}).then(async ({ lowerThreadPriority }) => {
       const lowered = await lowerThreadPriority();
       parentPort.postMessage({ lowered, tid: readlinkSync("/proc/thread-self").split("/").pop() });
       parentPort.once("message", () => process.exit(0));
     });`,
    { eval: true },
  );
  const { lowered, tid } = await new Promise<{ lowered: boolean; tid: string }>((resolve) =>
    worker.once("message", resolve),
  );
  try {
    assert.equal(lowered, true);
    assert.deepEqual(schedulingOf(`${process.pid}/task/${tid}`), { nice: 19, policy: SCHED_IDLE });
    assert.deepEqual(schedulingOf(`${process.pid}/task/${process.pid}`), { nice: 0, policy: 0 });
  } finally {
    worker.postMessage("done");
    await new Promise((resolve) => worker.once("exit", resolve));
  }
});

test("a management child lowers itself whole: every one of its threads", async (t) => {
  const module = new URL("../../src/shared/index.js", import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { lowerProcessPriority } = await import(${JSON.stringify(module)});
       console.log(await lowerProcessPriority(process.pid));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  t.after(() => child.kill("SIGKILL"));
  const said = await new Promise<string>((resolve) =>
    child.stdout.once("data", (d: Buffer) => resolve(String(d))),
  );
  assert.equal(said.trim(), "true");
  const threads = readdirSync(`/proc/${child.pid}/task`);
  assert.ok(threads.length > 1, "node runs more than one thread");
  for (const tid of threads)
    assert.deepEqual(
      schedulingOf(`${child.pid}/task/${tid}`),
      { nice: 19, policy: SCHED_IDLE },
      `thread ${tid}`,
    );
});
