/**
 * Autoscaling under a step of load: an Azure scoring script that waits 30 ms per request (a model
 * calling something outside, so one instance is bound by its one slot, not by this machine's CPU),
 * deployed as a Kubernetes deployment with target_utilization (min 1, max 4, polling 1 s, 70 %).
 * Baseline, in the same run: the same script with one fixed instance under the same load.
 * Reported: how long after the step the throughput over one second reaches 3× the baseline, the
 * instances at the end of the load, how long until the deployment is back to one instance, and
 * every answer that was not 200.
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import { parse } from "yaml";
import { project, ROWS, SCORE_PY } from "../test/script-project.js";

type Api = (method: string, path: string, body?: unknown) => Promise<string>;

const SCRIPT = SCORE_PY.replace(
  "def run(raw_data):",
  "import time\n\ndef run(raw_data):\n    time.sleep(0.03)",
);
const CLIENTS = 8;

/** Completed requests per 100 ms bin for `seconds`, and the other answers by status, from `clients` at once. */
async function stepLoad(
  url: string,
  key: string,
  deployment: string,
  seconds: number,
  clients: number,
): Promise<{ bins: number[]; failed: Record<number, number> }> {
  const pool = new Pool(url, { connections: clients, pipelining: 1 });
  const began = performance.now();
  const end = began + seconds * 1000;
  const bins = new Array<number>(seconds * 10).fill(0);
  const failed: Record<number, number> = {};
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await pool.request({
          path: "/endpoints/autoscale/score",
          method: "POST",
          body: JSON.stringify({ data: ROWS }),
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${key}`,
            "azureml-model-deployment": deployment,
          },
        });
        await r.body.text();
        const bin = Math.floor((performance.now() - began) / 100);
        if (r.statusCode === 200) {
          if (bin < bins.length) bins[bin]!++;
        } else failed[r.statusCode] = (failed[r.statusCode] ?? 0) + 1;
      }
    }),
  );
  await pool.close();
  return { bins, failed };
}

export async function autoscaleBench(url: string, api: Api, dir: string, python: string): Promise<string[]> {
  await api("POST", "/endpoints", { spec: { name: "autoscale", auth_mode: "key" }, source: "bench" });
  const key = (JSON.parse(await api("POST", "/endpoints/autoscale/credentials")) as { primaryKey: string })
    .primaryKey;
  const { yml } = project(dir, SCRIPT, "autoscale");
  const specOf = (name: string) => {
    const spec = parse(readFileSync(yml(name), "utf8"));
    spec.environment_variables = { PIER_PYTHON: python };
    spec.request_settings = { max_concurrent_requests_per_instance: 1, request_timeout_ms: 30_000 };
    return spec;
  };
  const create = async (spec: unknown) => {
    const text = await api("POST", "/deployments", { spec, source: "bench", specDir: dir, mode: "create" });
    if (!text.includes('"provisioning_state":"Succeeded"')) throw new Error(text);
  };
  await create(specOf("fixed"));
  const scaled = specOf("scaled");
  delete scaled.instance_count;
  Object.assign(scaled, {
    type: "kubernetes",
    scale_settings: {
      type: "target_utilization",
      min_instances: 1,
      max_instances: 4,
      polling_interval: 1,
      target_utilization_percentage: 70,
    },
  });
  await create(scaled);

  // Two clients: as many as Azure's rule admits to one instance of one slot (2 × 1 × 1); more get 429.
  const base = await stepLoad(url, key, "fixed", 4, 2);
  const baseline = base.bins.slice(10).reduce((a, b) => a + b, 0) / 3; // req/s over its last 3 s
  const step = await stepLoad(url, key, "scaled", 15, CLIENTS);
  // The first one-second window (in 100 ms steps) with 3× the baseline's throughput.
  let reachedMs: number | undefined;
  for (let i = 10; i <= step.bins.length && reachedMs === undefined; i++) {
    if (step.bins.slice(i - 10, i).reduce((a, b) => a + b, 0) >= 3 * baseline) reachedMs = i * 100;
  }
  const last = step.bins.slice(-30).reduce((a, b) => a + b, 0) / 3;
  const show = async () =>
    JSON.parse(await api("GET", "/endpoints/autoscale/deployments/scaled")) as { instances: unknown[] };
  const atPeak = (await show()).instances.length;
  const ended = performance.now();
  while ((await show()).instances.length > 1 && performance.now() - ended < 120_000)
    await new Promise((resolve) => setTimeout(resolve, 200));
  const backMs = performance.now() - ended;
  const failures = [base.failed, step.failed].flatMap((f) =>
    Object.entries(f).map(([s, n]) => `${n} × ${s}`),
  );
  return [
    `  one fixed instance: ${baseline.toFixed(0)} req/s (2 clients, 30 ms per request, max_concurrent 1)`,
    `  target_utilization, max 4, ${CLIENTS} clients from the step on: 3× that (${(3 * baseline).toFixed(0)} req/s over one second) reached ${reachedMs === undefined ? "never in 15 s" : `${(reachedMs / 1000).toFixed(1)} s after the step`} (goal ≤ 10 s); last 3 s ${last.toFixed(0)} req/s, ratio ${(last / baseline).toFixed(2)}, ${atPeak} instances`,
    `  back to 1 instance ${(backMs / 1000).toFixed(1)} s after the load ended (the quiet window is 10 polling intervals)`,
    `  answers other than 200: ${failures.length ? failures.join(", ") : "none"}`,
  ];
}
