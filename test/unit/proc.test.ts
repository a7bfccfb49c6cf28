/**
 * What the gateway's stall check reads from /proc, on real processes: a busy process's tree uses CPU
 * time, a sleeping or stopped one does not, and a SIGSTOPped one reads as stopped.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { processState, treeCpuTicks } from "../../src/engine/proc.js";
import { waitFor } from "../helpers.js";

test("CPU time tells a busy process tree from a stuck one; a stopped process reads as stopped", async (t) => {
  // A parent that only waits, with a child that spins: the tree is busy.
  const busy = spawn(
    process.execPath,
    [
      "-e",
      "require('child_process').spawn(process.execPath, ['-e', 'for(;;){}'], {stdio: 'inherit'}); setInterval(() => {}, 1000)",
    ],
    { stdio: "ignore", detached: true },
  );
  const idle = spawn("sleep", ["30"], { stdio: "ignore" });
  t.after(() => {
    process.kill(-busy.pid!, "SIGKILL"); // its group: the spinning child too
    idle.kill("SIGKILL");
  });
  const start = { busy: treeCpuTicks(busy.pid!), idle: treeCpuTicks(idle.pid!) };
  await waitFor(() => treeCpuTicks(busy.pid!) - start.busy >= 20, "the busy tree to use 0.2 s of CPU");
  assert.ok(treeCpuTicks(idle.pid!) - start.idle <= 1, "a sleeping process uses no CPU");
  assert.equal(processState(idle.pid!), "sleeping");
  idle.kill("SIGSTOP");
  await waitFor(() => processState(idle.pid!) === "stopped", "the process to read as stopped");
  assert.equal(processState(2 ** 22 + 1), "unknown");
  assert.equal(treeCpuTicks(2 ** 22 + 1), 0);
});
