import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { DeploymentView } from "../../src/engine/index.js";
import { post, servePier, tempDir, waitFor } from "../helpers.js";
import { project, ROWS } from "../script-project.js";

/** The parent pid and command line of a process, from /proc. */
function parentOf(pid: number): { ppid: number; command: string } {
  const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return { ppid, command: readFileSync(`/proc/${ppid}/cmdline`, "utf8").replaceAll("\0", " ") };
}

test("Python instances fork from a warm interpreter once it is ready: the same answers, their own pid, killed and restarted as before", async (t) => {
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "scripts", "-o", "json"])).stdout)
    .primaryKey as string;
  const { yml, expected } = project(tempDir(t));
  const create = async (name: string) => {
    const created = await pier.run(["deployment", "create", "-f", yml(name), "-o", "json"]);
    const view = JSON.parse(created.stdout) as DeploymentView;
    assert.equal(view.provisioning_state, "Succeeded", created.stderr);
    return view;
  };
  // The first deployment of this Python starts cold, and its interpreter starts warming beside it.
  const blue = await create("blue");
  const run = join(pier.home, "run");
  await waitFor(
    () =>
      existsSync(run) &&
      readdirSync(run).some(
        (f) => f.endsWith(".log") && readFileSync(join(run, f), "utf8").startsWith("ready"),
      ),
    "the warm interpreter says ready",
    60_000,
  );
  assert.equal(parentOf(blue.instances[0]!.pid).ppid, process.pid, "the first instance is pier's own child");

  const green = await create("green");
  const pid = green.instances[0]!.pid;
  const logs = await pier.run(["deployment", "get-logs", "-e", "scripts", "-n", "green"]);
  assert.match(logs.stdout, new RegExp(`forked from the warm interpreter as pid ${pid}\\b`));
  const parent = parentOf(pid);
  assert.notEqual(parent.ppid, process.pid);
  assert.match(parent.command, /pier_warm\.py/, "forked by the warm interpreter");

  const url = `${pier.url}/endpoints/scripts/score`;
  const auth = { authorization: `Bearer ${key}`, "azureml-model-deployment": "green" };
  const scored = await post(url, { data: ROWS }, auth);
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  assert.deepEqual(scored.body, expected, "what scikit-learn predicts for the same rows");

  // Killed from outside, the forked instance is seen to end by its signal and restarted.
  process.kill(pid, "SIGKILL");
  const show = async () =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "scripts", "-n", "green", "-o", "json"])).stdout,
    ) as DeploymentView;
  const restarted = await waitFor(
    async () => {
      const view = await show();
      const instance = view.instances[0]!;
      return instance.restarts >= 1 && instance.state === "Ready" && instance.pid !== pid ? view : undefined;
    },
    "a restart after kill -9",
    60_000,
  );
  const events = pier.pier.engine.events("scripts", "green");
  const exited = events.find((e) => e.kind === "ProcessExited");
  assert.ok(exited && exited.kind === "ProcessExited");
  assert.equal(exited.data.signal, "SIGKILL");
  assert.equal(exited.data.pid, pid, "the event names the instance's own process");
  assert.match(parentOf(restarted.instances[0]!.pid).command, /pier_warm\.py/, "restarted warm too");
  assert.equal((await post(url, { data: ROWS }, auth)).status, 200);
});
