import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import type { DeploymentView } from "../../src/engine/index.js";
import { createLogger } from "../../src/shared/index.js";
import {
  post,
  type RunningPier,
  requestsInFlight,
  servePier,
  trainedWorkspace,
  waitFor,
} from "../helpers.js";

let work: string;
let example: { columns: string[]; data: unknown[][] };

before(async () => {
  const workspace = await trainedWorkspace("pier-endpoints-", 800);
  work = workspace.dir;
  example = JSON.parse(readFileSync(join(work, "model/input_example.json"), "utf8"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Readiness gives up before liveness, so a frozen instance is first Unready, then restarted. */
const FAST_READINESS = { initial_delay: 1, period: 1, timeout: 1, failure_threshold: 2 };
const FAST_LIVENESS = { initial_delay: 1, period: 1, timeout: 1, failure_threshold: 5 };

/** Writes YAML next to the trained model and returns its path. */
function yamlFile(name: string, doc: Record<string, unknown>): string {
  const path = join(work, `${name}.yml`);
  writeFileSync(path, stringify(doc));
  return path;
}

async function endpoint(pier: RunningPier, name: string, extra: Record<string, unknown> = {}) {
  const result = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile(`ep-${name}`, {
      $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
      name,
      auth_mode: "key",
      ...extra,
    }),
  ]);
  assert.equal(result.code, 0, result.stderr);
}

async function deploy(
  pier: RunningPier,
  endpointName: string,
  name: string,
  extra: Record<string, unknown> = {},
  flags: string[] = [],
) {
  const file = yamlFile(`${endpointName}-${name}`, {
    name,
    endpoint_name: endpointName,
    model: "./model",
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
    ...extra,
  });
  return pier.run(["deployment", "create", "-f", file, ...flags, "-o", "json"]);
}

async function keys(pier: RunningPier, name: string): Promise<{ primaryKey: string; secondaryKey: string }> {
  const result = await pier.run(["endpoint", "get-credentials", name, "-o", "json"]);
  return JSON.parse(result.stdout);
}

const splitBody = () => ({
  input_data: { columns: example.columns, index: example.data.map((_, i) => i), data: example.data },
});

test("deploy from YAML, score with a key, and see every step, log, header and pier up's own log", async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  const pier = await servePier(t, { logger });
  await endpoint(pier, "fin");
  const created = await deploy(pier, "fin", "blue", {}, ["--all-traffic"]);
  assert.equal(created.code, 0, created.stdout + created.stderr);
  const view = JSON.parse(created.stdout);
  assert.equal(view.provisioning_state, "Succeeded");
  assert.equal(view.instances[0].state, "Ready");
  for (const step of ["model", "environment", "instances", "done"])
    assert.match(created.stderr, new RegExp(`✔ ${step}`));
  assert.match(created.stderr, /\(\d+(\.\d+)? ms\)/, "steps are timed");

  const { primaryKey, secondaryKey } = await keys(pier, "fin");
  const url = `${pier.url}/endpoints/fin/score`;
  const scored = await post(url, splitBody(), {
    authorization: `Bearer ${primaryKey}`,
    "x-ms-client-request-id": "client-42!@#",
  });
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  assert.equal(scored.body.length, example.data.length);
  assert.ok([0, 1].includes(scored.body[0].label));
  assert.equal(scored.body[0].probabilities.length, 2);
  assert.equal(scored.headers.get("azureml-model-deployment"), "blue");
  assert.match(scored.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  assert.equal(scored.headers.get("x-ms-client-request-id"), "client-42");
  assert.equal(
    (await post(url, splitBody(), { authorization: `Bearer ${secondaryKey}` })).status,
    200,
    "the secondary key works too",
  );

  const logs = await pier.run(["deployment", "get-logs", "-e", "fin", "-n", "blue", "--lines", "10"]);
  assert.match(logs.stdout, /model loaded from .* in [\d.]+ ms/);
  const init = await pier.run([
    "deployment",
    "get-logs",
    "-e",
    "fin",
    "-n",
    "blue",
    "--container",
    "storage-initializer",
  ]);
  assert.match(init.stdout, /verified model\/model\.onnx sha256:[0-9a-f]{64}/);

  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.match(metrics, /pier_requests_total\{endpoint="fin",deployment="blue",status="200"\} 2/);
  assert.match(
    metrics,
    /pier_instance_state\{endpoint="fin",deployment="blue",instance="[^"]+",state="Ready"\} 1/,
  );

  const invoke = await pier.run([
    "endpoint",
    "invoke",
    "fin",
    "--request-file",
    yamlFile("req", {}).replace(/\.yml$/, ".yml"),
  ]);
  assert.notEqual(invoke.code, 0, "an empty YAML body is not a valid request");

  // pier logs what happens as JSON lines: the instance starting and the deployment succeeding.
  const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string; event?: string });
  assert.ok(
    logged.some((l) => l.level === "info" && l.event === "Ready"),
    "an instance Ready line",
  );
  assert.ok(
    logged.some((l) => /^deployment fin\/blue Succeeded/.test(l.msg)),
    "the deployment's outcome",
  );
  assert.ok(!logged.some((l) => l.level === "debug"), "nothing below the level asked for");
});

test("instances: kill -9 restarts with an event; a frozen instance fails its probes and is restarted; a dying instance is retried elsewhere", async (t) => {
  const pier = await servePier(t);
  await endpoint(pier, "chaos");
  assert.equal(
    (
      await deploy(
        pier,
        "chaos",
        "blue",
        {
          instance_count: 2,
          environment_variables: { PIER_CHAOS_DELAY_MS: 300 },
          request_settings: { max_concurrent_requests_per_instance: 2 },
          liveness_probe: FAST_LIVENESS,
          readiness_probe: FAST_READINESS,
        },
        ["--all-traffic"],
      )
    ).code,
    0,
  );
  const { primaryKey } = await keys(pier, "chaos");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/chaos/score`;
  const show = async () =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "chaos", "-n", "blue", "-o", "json"])).stdout,
    ) as DeploymentView;
  const until = (predicate: (view: DeploymentView) => boolean, what: string) =>
    waitFor(async () => {
      const view = await show();
      return predicate(view) ? view : undefined;
    }, what);

  // A request in flight on an instance that dies is retried on the other one.
  const first = (await show()).instances[0]!;
  const inFlight = post(url, { input_data: example.data.slice(0, 1) }, auth);
  await waitFor(
    () => requestsInFlight(pier, "chaos", "blue").then((n) => n >= 1),
    "the request to be in flight",
  );
  process.kill(first.pid, "SIGKILL");
  const retried = await inFlight;
  assert.equal(retried.status, 200, "retried on the other instance");
  const restarted = await until(
    (v) => v.instances[0]!.restarts >= 1 && v.instances[0]!.state === "Ready",
    "restart after kill -9",
  );
  assert.notEqual(restarted.instances[0]!.pid, first.pid);
  assert.equal(restarted.instances[0]!.last_exit, "signal SIGKILL");

  // SIGSTOP freezes the process: probes time out, readiness turns it Unready and liveness restarts it.
  const frozen = (await show()).instances[1]!;
  process.kill(frozen.pid, "SIGSTOP");
  const recovered = await until(
    (v) => v.instances[1]!.restarts >= 1 && v.instances[1]!.state === "Ready",
    "liveness restart",
  );
  assert.notEqual(recovered.instances[1]!.pid, frozen.pid);
  await until((v) => v.instances.every((i) => i.state === "Ready"), "both instances Ready again");
  const eventLog = await (
    await fetch(`${pier.url}/api/v1/endpoints/chaos/events?deployment=blue`, {
      headers: {
        authorization: `Bearer ${readFileSync(join(pier.home, "api-token"), "utf8")}`,
      },
    })
  ).json();
  const kinds = new Set((eventLog as { kind: string }[]).map((e) => e.kind));
  for (const kind of ["ProcessExited", "Restarting", "ProbeFailed", "Unready", "LivenessFailed"])
    assert.ok(kinds.has(kind), `event ${kind}`);
  // The doctor names it from those events: the restart by liveness, and no instance left out of traffic.
  const doctor = JSON.parse((await pier.run(["doctor", "chaos", "blue", "-o", "json"])).stdout)[0];
  const codes = doctor.diagnoses.map((d: { code: string }) => d.code);
  assert.ok(codes.includes("LivenessProbeFailed"), JSON.stringify(codes));
  assert.ok(!codes.includes("ReadinessProbeFailed"), "the restarted instance is Ready again");
});

test("deployment update swaps instances without dropping the endpoint; repeated crashes show CrashLoop; deleting an endpoint removes its deployments", async (t) => {
  const pier = await servePier(t);
  await endpoint(pier, "roll");
  assert.equal((await deploy(pier, "roll", "blue", {}, ["--all-traffic"])).code, 0);
  const { primaryKey } = await keys(pier, "roll");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/roll/score`;
  const before = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue", "-o", "json"])).stdout,
  ) as DeploymentView;

  // Requests keep succeeding while the update replaces the instances.
  let stop = false;
  const statuses: number[] = [];
  const traffic = (async () => {
    while (!stop) statuses.push((await post(url, { input_data: example.data.slice(0, 1) }, auth)).status);
  })();
  const file = yamlFile("roll-blue-v2", {
    name: "blue",
    endpoint_name: "roll",
    model: "./model",
    instance_type: "Standard_DS3_v2",
    instance_count: 2,
  });
  const updated = await pier.run(["deployment", "update", "-f", file, "-o", "json"]);
  stop = true;
  await traffic;
  assert.equal(updated.code, 0, updated.stderr);
  const after = JSON.parse(updated.stdout) as DeploymentView;
  assert.equal(after.instances.length, 2);
  assert.ok(
    after.instances.every((i) => !before.instances.some((b) => b.id === i.id)),
    "new instances",
  );
  assert.ok(
    statuses.length > 0 && statuses.every((s) => s === 200),
    `statuses during update: ${[...new Set(statuses)]}`,
  );
  assert.throws(() => process.kill(before.instances[0]!.pid, 0), "old instance stopped");

  const token = readFileSync(join(pier.home, "api-token"), "utf8");
  const show = async () =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue", "-o", "json"])).stdout,
    ) as DeploymentView;
  for (let crash = 0; crash < 3; crash++) {
    const target = (await show()).instances[0]!;
    process.kill(target.pid, "SIGKILL");
    await waitFor(
      async () => {
        const now = (await show()).instances[0]!;
        return now.restarts > target.restarts && now.state === "Ready";
      },
      `restart ${crash + 1}`,
    );
  }
  const events = (await (
    await fetch(`${pier.url}/api/v1/endpoints/roll/events?deployment=blue`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { kind: string; message: string }[];
  const loop = events.find((e) => e.kind === "CrashLoop");
  assert.ok(loop, `a CrashLoop event after 3 crashes: ${events.map((e) => e.kind).join(",")}`);
  assert.match(loop.message, /3 crashes within 60 s/);

  // A deployment with live traffic is not deleted; the hint names where its traffic can go, as printed.
  const refused = await pier.run(["deployment", "delete", "-e", "roll", "-n", "blue"]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /pier endpoint update roll --traffic "blue=0"\./);

  assert.equal((await pier.run(["endpoint", "delete", "roll"])).code, 0);
  assert.equal((await post(url, splitBody(), auth)).status, 404);
  assert.match(
    (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue"])).stderr,
    /EndpointNotFound/,
  );
});
