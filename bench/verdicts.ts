/**
 * The decisions pier makes, counted on the ordinary path (issue: verdicts on evidence):
 *
 * - retrain agreement: how much ten retrains of the default model with other seeds differ from it
 *   (labels flipped, mean and p99 |Δp|), and a model of another target: where the rollout's
 *   answer-agreement defaults come from (docs/rollout-defaults.md);
 * - rollouts with the defaults (bakes shortened to PIER_BENCH_BAKE seconds, nothing else changed) under
 *   a steady load, with two CPU burners beside them: the same model over itself (A/A), retrains with
 *   other seeds, the other target's model, a deployment that crashes. Counts of promotions and
 *   rollbacks, the median time to the verdict, and every non-200 a client saw.
 *
 * PIER_BENCH_VERDICTS=full runs the issue's sizes (20 A/A, 10 retrains, 10 other-target, 10 crashing);
 * the default is a smaller run (3, 3, 2, 2).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { Pool } from "undici";
import { createPier } from "../src/app/index.js";
import { parseDeploymentSpec, parseEndpointSpec, parseRolloutSpec } from "../src/config/index.js";
import {
  BANKING_COLUMNS,
  engineerInputs,
  INPUT_SOURCE_COLUMNS,
  loadCsvTable,
  recordAt,
  synthesizeBankingRecords,
  trainFinancialModel,
  writeCsv,
} from "../src/training/index.js";

const full = process.env.PIER_BENCH_VERDICTS === "full";
const SIZES = full
  ? { aa: 20, retrains: 10, other: 10, crash: 10 }
  : { aa: 3, retrains: 3, other: 2, crash: 2 };
const BAKE_SECONDS = Number(process.env.PIER_BENCH_BAKE ?? 5);

const median = (xs: number[]) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : Number.NaN;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Scores rows with a model's ONNX graph: labels and the positive class's probabilities. */
async function score(
  dir: string,
  rows: Record<string, unknown>[],
): Promise<{ labels: number[]; p: number[] }> {
  const session = await ort.InferenceSession.create(join(dir, "model.onnx"));
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const values = rows.map((r) => r[name]);
    feeds[name] =
      typeof values[0] === "string"
        ? new ort.Tensor("string", values as string[], [values.length])
        : new ort.Tensor("float64", Float64Array.from(values as number[]), [values.length]);
  }
  const out = await session.run(feeds);
  const labels = Array.from(out.label!.data as BigInt64Array, Number);
  const p = Array.from(out.probabilities!.data as Float32Array).filter((_, i) => i % 2 === 1);
  return { labels, p };
}

function agreement(base: { labels: number[]; p: number[] }, other: { labels: number[]; p: number[] }) {
  const flips = other.labels.filter((l, i) => l !== base.labels[i]).length / other.labels.length;
  const deltas = other.p.map((x, i) => Math.abs(x - base.p[i]!));
  return {
    flips,
    mean: deltas.reduce((a, b) => a + b, 0) / deltas.length,
    p99: quantile(deltas, 0.99),
  };
}

/** Two processes that keep a core each busy, as other work on a shared CI machine does. */
function burners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }),
  );
}

export async function verdictsBench(work: string): Promise<string[]> {
  const lines: string[] = [];
  const csv = join(work, "verdicts.csv");
  writeCsv(csv, BANKING_COLUMNS, synthesizeBankingRecords({ rows: 5000, seed: 42 }));
  const models = join(work, "verdict-models");
  const train = async (name: string, seed: number, target?: string) => {
    const dir = join(models, name);
    await trainFinancialModel({
      dataPath: csv,
      outDir: dir,
      seed,
      search: 10,
      ...(target ? { target } : {}),
    });
    return dir;
  };
  const base = await train("base", 42);
  const seeds = Array.from({ length: Math.max(SIZES.retrains, 10) }, (_, i) => i + 1);
  const retrained = new Map<number, string>();
  for (const seed of seeds) retrained.set(seed, await train(`seed${seed}`, seed));
  const other = await train("anomaly", 42, "Anomaly");

  // Retrain agreement, offline: 2000 rows scored by ONNX Runtime.
  const inputs = engineerInputs(loadCsvTable(csv, INPUT_SOURCE_COLUMNS));
  const rows = Array.from({ length: 2000 }, (_, i) => recordAt(inputs, i));
  const reference = await score(base, rows);
  const measured = await Promise.all(
    seeds.map(async (s) => agreement(reference, await score(retrained.get(s)!, rows))),
  );
  const range = (f: (m: (typeof measured)[number]) => number, digits: number) =>
    `${Math.min(...measured.map(f)).toFixed(digits)}–${Math.max(...measured.map(f)).toFixed(digits)}`;
  const o = agreement(reference, await score(other, rows));
  lines.push(
    `  retrain agreement over 2000 rows, ${seeds.length} retrains (seeds 1–${seeds.length}) vs seed 42: labels flipped ${range((m) => m.flips * 100, 2)} %, mean |Δp| ${range((m) => m.mean, 3)}, p99 |Δp| ${range((m) => m.p99, 3)}; the Anomaly-target model: ${(o.flips * 100).toFixed(1)} % flipped, mean ${o.mean.toFixed(3)}, p99 ${o.p99.toFixed(3)} (defaults: flips 0.05, mean 0.1, p99 0.5)`,
  );

  // Rollouts, in this process's pier, under a steady load and two burners.
  const home = join(work, "verdicts-home");
  const pier = createPier({ home });
  const url = await pier.listen(0);
  await pier.restore();
  const hot = burners(Number(process.env.PIER_BENCH_BURNERS ?? 2));
  try {
    pier.engine.endpoints.create(parseEndpointSpec({ name: "verdicts", auth_mode: "key" }, "bench"));
    const deploy = async (name: string, model: string, env: Record<string, string> = {}) =>
      pier.engine.applyDeployment(
        parseDeploymentSpec(
          {
            name,
            endpoint_name: "verdicts",
            model,
            instance_type: "Standard_DS3_v2",
            instance_count: 1,
            request_settings: { max_concurrent_requests_per_instance: 64 },
            environment_variables: env,
          },
          "bench",
        ),
        { specDir: work, mode: "create", allTraffic: false },
      );
    const first = await deploy("blue", base);
    if (first.provisioning_state !== "Succeeded") throw new Error(`blue ${first.provisioning_state}`);
    pier.engine.endpoints.update("verdicts", { traffic: { blue: 100 } });
    const key = (pier.engine.endpoints.credentials("verdicts") as { primaryKey: string }).primaryKey;
    const body = JSON.stringify({ input_data: rows.slice(0, 10) });
    const pool = new Pool(url, { connections: 4 });
    const statuses: Record<string, number> = {};
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const r = await pool.request({
          method: "POST",
          path: "/endpoints/verdicts/score",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body,
        });
        await r.body.text();
        statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
      }
    });
    const spec = parseRolloutSpec({ strategy: { wait_interval_seconds: BAKE_SECONDS } }, {}, "bench", work);
    let n = 0;
    /** Rolls out `model` from whatever serves now; its end state and seconds to the verdict. */
    const rollout = async (model: string, env: Record<string, string> = {}) => {
      const name = `dep${++n}`;
      const view = await deploy(name, model, env);
      if (view.provisioning_state !== "Succeeded") throw new Error(`${name} ${view.provisioning_state}`);
      const t = performance.now();
      const record = pier.rollouts.start("verdicts", name, spec);
      let now = record;
      while (now.state === "Running") {
        await new Promise((r) => setTimeout(r, 100));
        now = pier.rollouts.status("verdicts");
      }
      if (now.state !== "Succeeded") await pier.engine.deleteDeployment("verdicts", name);
      return { state: now.state, reason: now.reason ?? "", seconds: (performance.now() - t) / 1000 };
    };
    const tally = async (
      what: string,
      count: number,
      model: (i: number) => string,
      env: Record<string, string> = {},
    ) => {
      const outcomes: { state: string; reason: string; seconds: number }[] = [];
      for (let i = 0; i < count; i++) outcomes.push(await rollout(model(i), env));
      const by = (state: string) => outcomes.filter((x) => x.state === state).length;
      const odd = outcomes.find((x) => x.state !== outcomes[0]!.state);
      lines.push(
        `  ${what}: ${count} rollouts, ${by("Succeeded")} promoted, ${by("RolledBack")} rolled back, ${by("Held")} held; median ${median(outcomes.map((x) => x.seconds)).toFixed(1)} s to the verdict${odd ? `; e.g. ${odd.state}: ${odd.reason.slice(0, 200)}` : ""}`,
      );
      return outcomes;
    };
    await tally("A/A (the same model over itself)", SIZES.aa, () => base);
    await tally("retrains with other seeds", SIZES.retrains, (i) => retrained.get(seeds[i % seeds.length]!)!);
    const stopped = await tally("the Anomaly-target model", SIZES.other, () => other);
    if (stopped[0]) lines.push(`    (why: ${stopped[0].reason.slice(0, 160)})`);
    await tally("a deployment that crashes after 30 requests", SIZES.crash, () => base, {
      PIER_CHAOS_CRASH_AFTER: "30",
    });
    running = false;
    await Promise.all(loops);
    await pool.close();
    const failed = Object.entries(statuses).filter(([s]) => s !== "200");
    lines.push(
      `  client requests during all of them: ${Object.values(statuses).reduce((a, b) => a + b, 0)}, non-200: ${failed.length ? failed.map(([s, c]) => `${c} × ${s}`).join(", ") : "none"} (goal: none); CPU burners beside: ${hot.length}`,
    );
  } finally {
    for (const h of hot) h.kill("SIGKILL");
    await pier.close({ instanceGraceMs: 1000 });
  }
  return lines;
}
