import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import type { DeploymentView } from "../../src/engine/index.js";
import { servePier, tempDir, waitFor } from "../helpers.js";
import { project, ROWS, SCORE_PY } from "../script-project.js";

/** A scoring script that waits on something outside (30 ms a request): one instance serves about 33 a second. */
const WAITING_SCRIPT = SCORE_PY.replace(
  "def run(raw_data):",
  "import time\n\ndef run(raw_data):\n    time.sleep(0.03)",
);

test("a Kubernetes deployment with target_utilization scales up under a step of load and back down after it, failing no request", async (t) => {
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "scripts", "-o", "json"])).stdout)
    .primaryKey as string;
  const { yml } = project(tempDir(t), WAITING_SCRIPT);
  const file = yml("blue");
  // Azure's Kubernetes online deployment, as its reference YAML writes scale_settings.
  const spec = parse(readFileSync(file, "utf8"));
  delete spec.instance_count;
  Object.assign(spec, {
    $schema: "https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json",
    type: "kubernetes",
    instance_type: "defaultinstancetype",
    request_settings: { max_concurrent_requests_per_instance: 1, request_timeout_ms: 10_000 },
    scale_settings: {
      type: "target_utilization",
      min_instances: 1,
      max_instances: 3,
      polling_interval: 1,
      target_utilization_percentage: 70,
    },
  });
  writeFileSync(file, stringify(spec));
  const created = await pier.run(["deployment", "create", "-f", file, "--all-traffic", "-o", "json"]);
  const view = JSON.parse(created.stdout) as DeploymentView;
  assert.equal(view.provisioning_state, "Succeeded", created.stderr);
  assert.equal(view.instance_count, 1, "it starts with min_instances");
  assert.deepEqual(view.autoscale, { min_instances: 1, max_instances: 3, target_utilization_percentage: 70 });

  const show = async () =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "scripts", "-n", "blue", "-o", "json"])).stdout,
    ) as DeploymentView;
  const statuses = new Map<number, number>();
  let load = true;
  const client = async () => {
    while (load) {
      const response = await fetch(`${pier.url}/endpoints/scripts/score`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ data: ROWS }),
      });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  // Six clients at once: six times what one instance's slot holds.
  const clients = Array.from({ length: 6 }, client);
  try {
    await waitFor(
      async () => {
        const now = await show();
        return now.instance_count === 3 && now.instances.every((i) => i.state === "Ready");
      },
      "three Ready instances under load",
      60_000,
    );
  } finally {
    load = false;
    await Promise.all(clients);
  }
  assert.deepEqual(
    [...statuses.keys()],
    [200],
    `every request answered 200: ${JSON.stringify([...statuses])}`,
  );

  // After the load, the quiet window passes and the deployment goes back to min_instances.
  await waitFor(async () => (await show()).instances.length === 1, "back to one instance", 60_000);

  const events = pier.pier.engine.events("scripts", "blue");
  const scaled = events.filter((e) => e.kind === "Scaled");
  assert.ok(scaled.length >= 2, JSON.stringify(events.map((e) => e.message)));
  const up = scaled.find((e) => e.kind === "Scaled" && e.data.to > e.data.from)!;
  assert.match(
    up.message,
    /^scaled up from 1 to \d instance\(s\): request slots \d+ % used against a target of 70 %$/,
  );
  const down = scaled.at(-1)!;
  assert.match(down.message, /^scaled down from \d to 1 instance\(s\)/);

  // The instance that left finished its requests and stopped; the one that stays still answers.
  const after = await fetch(`${pier.url}/endpoints/scripts/score`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ data: ROWS }),
  });
  assert.equal(after.status, 200);

  // A KServe export carries the same numbers, and KServe's schema takes them.
  const out = join(tempDir(t), "kserve");
  const exported = await pier.run([
    "export",
    "kserve",
    "-e",
    "scripts",
    "--out",
    out,
    "--storage-uri",
    "pvc://models/scripts",
    "-o",
    "json",
  ]);
  assert.equal(exported.code, 0, exported.stdout + exported.stderr);
  const isvc = parse(readFileSync(join(out, "scripts.yaml"), "utf8"));
  const { minReplicas, maxReplicas, scaleMetric, scaleTarget, containerConcurrency } = isvc.spec.predictor;
  assert.deepEqual(
    { minReplicas, maxReplicas, scaleMetric, scaleTarget, containerConcurrency },
    { minReplicas: 1, maxReplicas: 3, scaleMetric: "concurrency", scaleTarget: 1, containerConcurrency: 1 },
  );
  assert.deepEqual(JSON.parse(exported.stdout).findings, []);
});
