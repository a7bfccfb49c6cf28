/**
 * Stopping and starting under traffic, with real processes: SIGTERM lets the requests in flight
 * finish before the instances stop, and a restarted pier makes requests that come while it restores
 * wait for their deployment instead of answering 503.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { PIER_BIN, post, startPier, tempDir, trainedWorkspace, waitFor } from "../helpers.js";

test("SIGTERM finishes the requests in flight; a restart serves the requests that come while it restores", async (t) => {
  const work = await trainedWorkspace("pier-lifecycle-", 300);
  t.after(work.cleanup);
  const home = join(tempDir(t), "home");
  const pier = await startPier(t, { home });
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const file = join(work.dir, "blue.yml");
  writeFileSync(
    file,
    stringify({
      name: "blue",
      endpoint_name: "fin",
      model: work.model,
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 8, request_timeout_ms: 10_000 },
      // Each answer takes 800 ms (the ONNX host's fault injection), so requests are in flight when the stop comes.
      environment_variables: { PIER_CHAOS_DELAY_MS: "800" },
    }),
  );
  assert.equal((await pier.run(["deployment", "create", "-f", file, "--all-traffic"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout)
    .primaryKey as string;
  const example = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const body = { input_data: { columns: example.columns, index: [0], data: example.data.slice(0, 1) } };
  const score = (url: string) => post(`${url}/endpoints/fin/score`, body, { authorization: `Bearer ${key}` });

  const inFlight = Array.from({ length: 4 }, () => score(pier.url));
  await waitFor(async () => {
    const metrics = await (await fetch(`${pier.url}/metrics`)).text();
    return /pier_requests_in_flight\{endpoint="fin",deployment="blue"\} 4/.test(metrics);
  }, "the 4 requests to be in flight");
  const stopped = pier.stop(); // SIGINT, as Ctrl-C; SIGTERM takes the same path
  const answers = await Promise.all(inFlight);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200],
    "every request in flight at the stop got its answer",
  );
  assert.equal(await stopped, 0);
  assert.match(pier.output(), /request\(s\) were in flight when the stop began/);

  // Restart: requests sent as soon as the port opens wait for the restore.
  const restarted = spawn(process.execPath, [PIER_BIN, "up", "--port", "0", "--no-default-model"], {
    env: { ...process.env, PIER_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  restarted.stdout.on("data", (c) => (output += c));
  restarted.stderr.on("data", (c) => (output += c));
  t.after(() => restarted.kill("SIGKILL"));
  const upFile = join(home, "up.json");
  const url = await waitFor(
    () =>
      existsSync(upFile) ? (JSON.parse(readFileSync(upFile, "utf8")) as { url: string }).url : undefined,
    "the restarted pier to listen",
    20_000,
  );
  const early = await Promise.all(Array.from({ length: 6 }, () => score(url)));
  assert.deepEqual(
    early.map((a) => a.status),
    [200, 200, 200, 200, 200, 200],
    `no 503 while restoring:\n${output}`,
  );
  restarted.kill("SIGTERM");
  await new Promise((resolve) => restarted.on("exit", resolve));
});
