/**
 * `npm run bench`: deploy → Ready time and gateway overhead/throughput, each reported next to a
 * baseline measured in the same run (these machines are shared and noisy, so ratios matter more
 * than absolute numbers).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { buildEnvironment, parsePipRequirement } from "../src/env/index.js";
import {
  BANKING_COLUMNS,
  synthesizeBankingRecords,
  trainFinancialModel,
  writeCsv,
} from "../src/training/index.js";
import { autoscaleBench } from "./autoscale-bench.js";
import { checkBench, cliBench } from "./cli-bench.js";
import { monitorBench } from "./monitor-bench.js";
import { verdictsBench } from "./verdicts.js";
import { memoryOf, warmBench } from "./warm-bench.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PIER = join(ROOT, "bin/pier.js");
const work = mkdtempSync(join(tmpdir(), "pier-bench-"));
const children: ChildProcess[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let seen = "";
    const onLine = (line: string) => {
      seen += `${line}\n`;
      const match = ready.exec(line);
      if (match) resolvePromise({ child, match });
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    child.on("exit", () => reject(new Error(`process ended before it was ready:\n${seen}`)));
  });
}

async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<string> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok || text.includes('{"error":{')) throw new Error(`${method} ${path}: ${text}`);
  return text;
}

interface Target {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** One POST; returns its status after reading the whole answer. */
async function postOnce(pool: Pool, target: Target): Promise<number> {
  const r = await pool.request({
    path: target.path,
    method: "POST",
    body: target.body,
    headers: { "content-type": "application/json", ...target.headers },
  });
  await r.body.text();
  return r.statusCode;
}

/** Sequential single-row requests; returns per-request latencies in ms. */
async function latencies(pool: Pool, target: Target, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const status = await postOnce(pool, target);
    if (status !== 200) throw new Error(`${target.path} answered ${status}`);
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * One request at a time, stage by stage as pier up's Server-Timing header gives them (x-pier-timing),
 * with the client's own round trip beside: the median of each over `count` requests.
 */
async function stageBreakdown(pool: Pool, target: Target, count: number): Promise<string[]> {
  const stages = new Map<string, number[]>();
  const roundTrips: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const response = await pool.request({
      path: target.path,
      method: "POST",
      body: target.body,
      headers: { "content-type": "application/json", "x-pier-timing": "1", ...target.headers },
    });
    await response.body.text();
    roundTrips.push(performance.now() - t);
    for (const part of String(response.headers["server-timing"] ?? "").split(", ")) {
      const [name, dur] = part.split(";dur=");
      if (!name || dur === undefined) continue;
      if (!stages.has(name)) stages.set(name, []);
      stages.get(name)!.push(Number(dur));
    }
  }
  const roundTrip = median(roundTrips);
  const total = median(stages.get("total") ?? [0]);
  return [
    ...[...stages].map(
      ([name, values]) => `  ${name.padEnd(40)} ${median(values).toFixed(3).padStart(7)} ms`,
    ),
    `  ${"client round trip (HTTP, sockets, client)".padEnd(40)} ${roundTrip.toFixed(3).padStart(7)} ms (${(roundTrip - total).toFixed(3)} ms outside pier's handler)`,
  ];
}

/** pier up's own memory and each instance's, by deployment. */
async function memoryBench(url: string, token: string, pierPid: number): Promise<string[]> {
  const row = (what: string, pid: number) => {
    const { rss, pss } = memoryOf(pid);
    return `  ${what.padEnd(44)} RSS ${rss.toFixed(0).padStart(4)} MiB, PSS ${pss.toFixed(0).padStart(4)} MiB`;
  };
  const rows = [row("pier up (gateway, management, monitoring)", pierPid)];
  const deployments = JSON.parse(await api(url, token, "GET", "/endpoints/bench/deployments")) as {
    name: string;
    model: string;
    instances: { id: string; pid: number }[];
  }[];
  for (const d of deployments)
    for (const instance of d.instances) rows.push(row(`instance ${instance.id} (${d.model})`, instance.pid));
  return rows;
}

/** Requests per second with `concurrency` loops for `seconds`. */
async function throughput(
  origin: string,
  target: Target,
  concurrency: number,
  seconds: number,
): Promise<number> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        if ((await postOnce(pool, target)) === 200) done++;
        else failed++;
      }
    }),
  );
  await pool.close();
  if (failed > 0) throw new Error(`${failed} requests failed at concurrency ${concurrency}`);
  return done / seconds;
}

/** How many answers of each status `concurrency` clients get in `seconds`. */
async function statusCounts(
  origin: string,
  target: Target,
  concurrency: number,
  seconds: number,
): Promise<Record<number, number>> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const end = performance.now() + seconds * 1000;
  const counts: Record<number, number> = {};
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const status = await postOnce(pool, target);
        counts[status] = (counts[status] ?? 0) + 1;
      }
    }),
  );
  await pool.close();
  return counts;
}

/**
 * `pier up`'s own default deployment (a fresh home: synthetic data, training, the endpoint), under 64
 * clients at once, next to the same model deployed with Azure's default admission (1 per instance).
 */
async function defaultWorkloadBench(azureDefault: Target, benchUrl: string): Promise<string[]> {
  const home = join(work, "default-home");
  const { match } = await start(
    [PIER, "up", "--port", "0"],
    { PIER_HOME: home },
    /pier is up at (http:\/\/127\.0\.0\.1:\d+)/,
  );
  const url = match[1]!;
  const token = readFileSync(join(home, "api-token"), "utf8").trim();
  const key = JSON.parse(await api(url, token, "POST", "/endpoints/fin-behavior/credentials")).primaryKey;
  const body = azureDefault.body;
  const ours = await statusCounts(
    url,
    { path: "/endpoints/fin-behavior/score", body, headers: { authorization: `Bearer ${key}` } },
    64,
    3,
  );
  const azure = await statusCounts(benchUrl, azureDefault, 64, 3);
  const describe = (counts: Record<number, number>) => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return `${total} requests, ${counts[200] ?? 0} answered, ${counts[429] ?? 0} × 429 (${(((counts[429] ?? 0) / total) * 100).toFixed(1)}%)`;
  };
  return [
    `  pier up's default deployment (max_concurrent_requests_per_instance 64): ${describe(ours)}`,
    `  the same model with Azure's default admission (1 per instance): ${describe(azure)}`,
  ];
}

async function main(): Promise<void> {
  console.log("CLI start (median of 9; bench/cli-bench.ts):");
  for (const row of cliBench(PIER)) console.log(row);
  if (process.env.PIER_BENCH_ONLY === "cli") return;
  if (process.env.PIER_BENCH_ONLY === "verdicts") {
    console.log("verdicts on evidence (rollouts with the defaults, bakes shortened; see bench/verdicts.ts):");
    for (const row of await verdictsBench(work)) console.log(row);
    return;
  }
  const csv = join(work, "banking.csv");
  writeCsv(csv, BANKING_COLUMNS, synthesizeBankingRecords({ rows: 5000, seed: 42 }));
  const modelDir = join(work, "model");
  await trainFinancialModel({ dataPath: csv, outDir: modelDir, search: 0 });
  const example = JSON.parse(readFileSync(join(modelDir, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const record = Object.fromEntries(example.columns.map((c, i) => [c, example.data[0]![i]]));

  // Baseline for deploy → Ready: a bare Node process that loads onnxruntime-node and the model.
  const floors: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const { child } = await start([join(ROOT, "dist/bench/minimal-onnx-server.js"), modelDir], {}, /^\d+$/);
    floors.push(performance.now() - t);
    child.kill();
  }

  const home = join(work, "home");
  const { match, child: pierUp } = await start(
    [PIER, "up", "--port", "0", "--no-default-model"],
    { PIER_HOME: home },
    /pier is up at (http:\/\/127\.0\.0\.1:\d+)/,
  );
  const url = match[1]!;
  const token = readFileSync(join(home, "api-token"), "utf8").trim();
  const python = process.env.PIER_PYTHON ?? "/usr/bin/python3";
  if (process.env.PIER_BENCH_ONLY === "warm") {
    await api(url, token, "POST", "/endpoints", {
      spec: { name: "warm", auth_mode: "key" },
      source: "bench",
    });
    const sklearnDir = join(work, "sklearn-model");
    execFileSync(python, ["-c", SKLEARN_MODEL_SCRIPT, sklearnDir]);
    console.log("Python instances, cold and forked from the warm interpreter (bench/warm-bench.ts):");
    const rows = await warmBench(
      (m, p, b) => api(url, token, m, p, b),
      home,
      pierUp.pid!,
      sklearnDir,
      python,
      "warm",
    );
    for (const row of rows) console.log(row);
    return;
  }
  if (process.env.PIER_BENCH_ONLY === "autoscale") {
    console.log("autoscaling under a step of load (bench/autoscale-bench.ts):");
    const rows = await autoscaleBench(
      url,
      (m, p, b) => api(url, token, m, p, b),
      join(work, "autoscale"),
      python,
    );
    for (const row of rows) console.log(row);
    return;
  }
  await api(url, token, "POST", "/endpoints", { spec: { name: "bench", auth_mode: "key" }, source: "bench" });
  const deployment = (name: string) => ({
    spec: {
      name,
      endpoint_name: "bench",
      model: modelDir,
      instance_type: "Standard_F4s_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 64, request_timeout_ms: 10_000 },
    },
    source: "bench",
    specDir: work,
    mode: "create",
  });
  const deploys: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const text = await api(url, token, "POST", "/deployments", deployment(`try${i}`));
    if (!text.includes('"provisioning_state":"Succeeded"')) throw new Error(text);
    deploys.push(performance.now() - t);
    await api(url, token, "DELETE", `/endpoints/bench/deployments/try${i}`);
  }
  await api(url, token, "POST", "/deployments", { ...deployment("blue"), allTraffic: true });
  console.log("export check (median of 5):");
  for (const row of checkBench(PIER, home, "bench", join(work, "kserve-export"))) console.log(row);
  const key = (
    JSON.parse(await api(url, token, "POST", "/endpoints/bench/credentials")) as { primaryKey: string }
  ).primaryKey;
  const view = JSON.parse(await api(url, token, "GET", "/endpoints/bench/deployments/blue")) as {
    instances: { port: number; pid: number }[];
  };
  const instancePort = view.instances[0]!.port;
  // The instance's port takes only pier's secret: read from its environment, as only its owner can.
  const instanceToken = /(?:^|\0)PIER_INSTANCE_TOKEN=([^\0]*)/.exec(
    readFileSync(`/proc/${view.instances[0]!.pid}/environ`, "utf8"),
  )?.[1];

  const gatewayBody = JSON.stringify({ input_data: [record] });
  const viaGatewayTarget: Target = {
    path: "/endpoints/bench/score",
    body: gatewayBody,
    headers: { authorization: `Bearer ${key}` },
  };
  const directTarget: Target = {
    path: "/invoke",
    body: JSON.stringify({ records: [record] }),
    headers: { "x-pier-instance-token": instanceToken ?? "" },
  };
  const gatewayPool = new Pool(url, { connections: 1 });
  const directPool = new Pool(`http://127.0.0.1:${instancePort}`, { connections: 1 });
  await latencies(gatewayPool, viaGatewayTarget, 300);
  await latencies(directPool, directTarget, 300);
  const viaGateway: number[] = [];
  const direct: number[] = [];
  // Alternate one request each way, so that both see the same moments of a shared, noisy machine.
  for (let i = 0; i < 3000; i++) {
    viaGateway.push(...(await latencies(gatewayPool, viaGatewayTarget, 1)));
    direct.push(...(await latencies(directPool, directTarget, 1)));
  }
  const stageRows = await stageBreakdown(gatewayPool, viaGatewayTarget, 2000);
  await gatewayPool.close();
  await directPool.close();
  if (process.env.PIER_BENCH_ONLY === "stages") {
    console.log(
      `gateway p50 ${median(viaGateway).toFixed(3)} ms, straight to the instance ${median(direct).toFixed(3)} ms; stage by stage:`,
    );
    for (const row of stageRows) console.log(row);
    return;
  }

  const { match: limitMatch } = await start(
    [join(ROOT, "dist/bench/minimal-onnx-server.js"), modelDir],
    {},
    /^(\d+)$/,
  );
  const limitOrigin = `http://127.0.0.1:${limitMatch[1]}`;
  const rows: string[] = [];
  for (const concurrency of [1, 8, 64]) {
    const limit = await throughput(
      limitOrigin,
      { path: "/", body: gatewayBody, headers: {} },
      concurrency,
      3,
    );
    const gateway = await throughput(url, viaGatewayTarget, concurrency, 3);
    rows.push(
      `  concurrency ${String(concurrency).padStart(2)}: pier ${gateway.toFixed(0).padStart(6)} req/s, limit ${limit.toFixed(0).padStart(6)} req/s, ratio ${(gateway / limit).toFixed(2)}`,
    );
  }

  // A tensor model ([N, 10] float32, as torch.onnx.export writes it) through pier's /invocations next
  // to a minimal server that runs one session.run per request.
  const tensorRows = await tensorModelBench(url, token, key, deployment);

  // Rollouts: what a shadowed request costs the live one, and the machinery's own time to promotion.
  const rolloutRows = await rolloutBench(url, token, viaGatewayTarget, deployment);

  // Data capture: the same model with and without a data collector writing inputs and outputs.
  const captureRows = await captureBench(url, token, key, record, deployment);
  const monitorRows = await monitorBench(join(work, "monitor"), modelDir);

  // Admission: pier up's default deployment and Azure's default, each under 64 clients at once.
  await api(url, token, "POST", "/deployments", {
    spec: {
      name: "azdefault",
      endpoint_name: "bench",
      model: modelDir,
      instance_type: "Standard_F2s_v2",
      instance_count: 1,
    },
  });
  const admissionRows = await defaultWorkloadBench(
    {
      ...viaGatewayTarget,
      headers: { ...viaGatewayTarget.headers, "azureml-model-deployment": "azdefault" },
    },
    url,
  );

  // A Python model (MLflow sklearn flavor) through the same gateway, next to the ONNX figures.
  const sklearnDir = join(work, "sklearn-model");
  execFileSync(python, ["-c", SKLEARN_MODEL_SCRIPT, sklearnDir]);
  const pyDeploys: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const spec = {
      ...deployment(`py${i}`),
      spec: {
        ...deployment(`py${i}`).spec,
        model: sklearnDir,
        environment_variables: { PIER_PYTHON: python },
      },
    };
    const text = await api(url, token, "POST", "/deployments", spec);
    if (!text.includes('"provisioning_state":"Succeeded"')) throw new Error(text);
    pyDeploys.push(performance.now() - t);
    if (i < 2) await api(url, token, "DELETE", `/endpoints/bench/deployments/py${i}`);
  }
  const pyTarget: Target = {
    path: "/endpoints/bench/score",
    body: JSON.stringify({ input_data: [[5.1, 3.5, 1.4, 0.2]] }),
    headers: { authorization: `Bearer ${key}`, "azureml-model-deployment": "py2" },
  };
  const onnxPinned: Target = {
    ...viaGatewayTarget,
    headers: { ...viaGatewayTarget.headers, "azureml-model-deployment": "blue" },
  };
  const pyPool = new Pool(url, { connections: 1 });
  await latencies(pyPool, pyTarget, 200);
  const pyLatency = median(await latencies(pyPool, pyTarget, 1000));
  await pyPool.close();
  const pyThroughput = await throughput(url, pyTarget, 8, 3);
  const workerSpec = deployment("pyw");
  await api(url, token, "POST", "/deployments", {
    ...workerSpec,
    spec: {
      ...workerSpec.spec,
      model: sklearnDir,
      environment_variables: { PIER_PYTHON: python, WORKER_COUNT: "2" },
    },
  });
  const pyWorkersThroughput = await throughput(
    url,
    { ...pyTarget, headers: { ...pyTarget.headers, "azureml-model-deployment": "pyw" } },
    8,
    3,
  );
  const onnxThroughput8 = await throughput(url, onnxPinned, 8, 3);
  const concurrency = JSON.parse(
    execFileSync(python, [join(ROOT, "bench/python_concurrency.py"), "2"], { encoding: "utf8" }),
  ) as Record<string, number>;

  const memoryRows = await memoryBench(url, token, pierUp.pid!);
  const autoscaleRows = await autoscaleBench(
    url,
    (m, p, b) => api(url, token, m, p, b),
    join(work, "autoscale"),
    python,
  );
  const environments = await environmentBench(python);

  const p50Gateway = median(viaGateway);
  const p50Direct = median(direct);
  console.log("pier bench (ONNX financial-behavior model, single-row requests)");
  console.log(
    `deploy → Ready: median ${median(deploys).toFixed(0)} ms over ${deploys.length} deployments (target < 1000 ms)`,
  );
  console.log(
    `  baseline: a bare Node process loading onnxruntime-node + the model: median ${median(floors).toFixed(0)} ms; ratio ${(median(deploys) / median(floors)).toFixed(2)}`,
  );
  console.log(
    `latency: p50 through the gateway ${p50Gateway.toFixed(3)} ms, straight to the instance (HTTP POST /invoke on its port) ${p50Direct.toFixed(3)} ms`,
  );
  console.log(
    `  gateway overhead at p50: ${(p50Gateway - p50Direct).toFixed(3)} ms (target < 0.3 ms); p99 ${quantile(viaGateway, 0.99).toFixed(3)} vs ${quantile(direct, 0.99).toFixed(3)} ms`,
  );
  console.log(
    "one request through the gateway, stage by stage (median of 2000; Server-Timing; instance = the hop to the instance process, ONNX Runtime and back):",
  );
  for (const row of stageRows) console.log(row);
  console.log("throughput vs a minimal Node server scoring in-process (target ratio ≥ 0.7 at 64):");
  for (const row of rows) console.log(row);
  console.log(
    'tensor model [N, 10] float32, {"inputs": [[…]]} on /invocations vs a minimal server, one session.run per request (target ≥ 1.5 at 64):',
  );
  for (const row of tensorRows) console.log(row);
  console.log("64 clients at once for 3 s (target: no 429 from pier up's own deployment):");
  for (const row of admissionRows) console.log(row);
  console.log("rollouts:");
  for (const row of rolloutRows) console.log(row);
  console.log("data capture of model inputs and outputs, on vs off (goal: p50 < 5 %, p99 < 10 % more):");
  for (const row of captureRows) console.log(row);
  console.log(
    "a monitoring report over captured rows (run on pier up's monitoring worker thread, not the gateway's):",
  );
  for (const row of monitorRows) console.log(row);
  console.log("Python model (MLflow sklearn LogisticRegression) in pier's Python host:");
  console.log(
    `  deploy → Ready: median ${median(pyDeploys).toFixed(0)} ms over ${pyDeploys.length} (ONNX: ${median(deploys).toFixed(0)} ms; ratio ${(median(pyDeploys) / median(deploys)).toFixed(2)})`,
  );
  console.log(
    `  p50 single-row latency through the gateway: ${pyLatency.toFixed(3)} ms (ONNX ${p50Gateway.toFixed(3)} ms; ratio ${(pyLatency / p50Gateway).toFixed(2)})`,
  );
  console.log(
    `  throughput at concurrency 8 (max_concurrent 64, one instance): ${pyThroughput.toFixed(0)} req/s (ONNX ${onnxThroughput8.toFixed(0)} req/s; ratio ${(pyThroughput / onnxThroughput8).toFixed(2)})`,
  );
  console.log(
    `  the same with WORKER_COUNT=2 (two worker processes, reached over HTTP): ${pyWorkersThroughput.toFixed(0)} req/s (ratio ${(pyWorkersThroughput / pyThroughput).toFixed(2)} to one process with threads on the invoke channel)`,
  );
  console.log(
    "memory after the load above (RSS counts shared pages in every process; PSS shares them out: /proc/PID/smaps_rollup):",
  );
  for (const row of memoryRows) console.log(row);
  console.log("autoscaling under a step of load (bench/autoscale-bench.ts):");
  for (const row of autoscaleRows) console.log(row);
  console.log("Python environment builds (one pin, from a local wheel folder):");
  console.log(
    `  build: median ${environments.built.toFixed(0)} ms; the same venv + pip install run bare: ${environments.bare.toFixed(0)} ms; ratio ${(environments.built / environments.bare).toFixed(2)}`,
  );
  console.log(
    `  reuse of a built environment: ${environments.reuse.toFixed(1)} ms (ratio ${(environments.reuse / environments.built).toFixed(4)} to a build); with no package index: ${environments.offline} after ${environments.offlineMs.toFixed(0)} ms`,
  );
  console.log("verdicts on evidence (rollouts with the defaults, bakes shortened; see bench/verdicts.ts):");
  for (const row of await verdictsBench(work)) console.log(row);
  console.log(
    `scikit-learn single-row predict inside one Python process (${concurrency.workers} workers vs 1 thread):`,
  );
  console.log(
    `  1 thread ${concurrency.single!.toFixed(0)}/s; ${concurrency.workers} threads ${concurrency.threads!.toFixed(0)}/s (ratio ${(concurrency.threads! / concurrency.single!).toFixed(2)}); ${concurrency.workers} processes ${concurrency.processes!.toFixed(0)}/s (ratio ${(concurrency.processes! / concurrency.single!).toFixed(2)})`,
  );
}

/** Latencies of requests sent at a steady `rate` per second for `seconds` (an open loop: they do not wait for each other). */
async function pacedLatencies(
  origin: string,
  target: Target,
  rate: number,
  seconds: number,
): Promise<number[]> {
  const pool = new Pool(origin, { connections: 16, pipelining: 1 });
  const out: number[] = [];
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    sent.push(
      postOnce(pool, target).then((status) => {
        if (status !== 200) throw new Error(`${target.path} answered ${status}`);
        out.push(performance.now() - t);
      }),
    );
  }
  await Promise.all(sent);
  await pool.close();
  return out;
}

/**
 * What capturing model inputs and outputs costs a request: one deployment with a data collector
 * (model_inputs and model_outputs, every request), one without, the same model; requests pinned to
 * each, alternated one by one so both see the same moments of the machine; bodies of 1 and 50 rows.
 */
async function captureBench(
  url: string,
  token: string,
  key: string,
  record: Record<string, unknown>,
  deployment: (name: string) => { spec: Record<string, unknown> },
): Promise<string[]> {
  const plain = deployment("nocapture");
  const captured = deployment("capture");
  await api(url, token, "POST", "/deployments", plain);
  await api(url, token, "POST", "/deployments", {
    ...captured,
    spec: {
      ...captured.spec,
      data_collector: {
        collections: { model_inputs: { enabled: "True" }, model_outputs: { enabled: "True" } },
      },
    },
  });
  const rows: string[] = [];
  for (const size of [1, 50]) {
    const body = JSON.stringify({ input_data: Array.from({ length: size }, () => record) });
    const target = (name: string): Target => ({
      path: "/endpoints/bench/score",
      body,
      headers: { authorization: `Bearer ${key}`, "azureml-model-deployment": name },
    });
    const pool = new Pool(url, { connections: 1 });
    await latencies(pool, target("nocapture"), 300);
    await latencies(pool, target("capture"), 300);
    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < 3000; i++) {
      off.push(...(await latencies(pool, target("nocapture"), 1)));
      on.push(...(await latencies(pool, target("capture"), 1)));
    }
    await pool.close();
    const offRate: number[] = [];
    const onRate: number[] = [];
    for (let round = 0; round < 2; round++) {
      offRate.push(await throughput(url, target("nocapture"), 8, 2));
      onRate.push(await throughput(url, target("capture"), 8, 2));
    }
    const ratio = (a: number, b: number) => ((a / b - 1) * 100).toFixed(1);
    const [p50on, p50off, p99on, p99off] = [
      quantile(on, 0.5),
      quantile(off, 0.5),
      quantile(on, 0.99),
      quantile(off, 0.99),
    ];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    rows.push(
      `  ${String(size).padStart(2)} row(s) a request: p50 ${p50on.toFixed(3)} vs ${p50off.toFixed(3)} ms (${ratio(p50on, p50off)} %), p99 ${p99on.toFixed(3)} vs ${p99off.toFixed(3)} ms (${ratio(p99on, p99off)} %); throughput at 8 clients ${(sum(onRate) / 2).toFixed(0)} vs ${(sum(offRate) / 2).toFixed(0)} req/s (ratio ${(sum(onRate) / sum(offRate)).toFixed(2)})`,
    );
  }
  for (const name of ["nocapture", "capture"])
    await api(url, token, "DELETE", `/endpoints/bench/deployments/${name}`);
  return rows;
}

/**
 * A rollout's costs: the extra p50/p99 of live requests while half of them are mirrored to a new
 * deployment and their answers compared (windows alternated with the same steady load unshadowed), and the time from `rollout start` to promotion with zero bakes and a minimum sample of one,
 * next to doing the same by hand (deployment create, then a traffic update).
 */
async function rolloutBench(
  url: string,
  token: string,
  live: Target,
  deployment: (name: string) => Record<string, unknown>,
): Promise<string[]> {
  const rolloutStart = async (body: Record<string, unknown>) => {
    const text = await api(url, token, "POST", "/endpoints/bench/rollouts", body);
    if (!text.includes('"result"')) throw new Error(text);
  };
  const status = async () =>
    JSON.parse(await api(url, token, "GET", "/endpoints/bench/rollout")) as {
      state: string;
      reason?: string;
    };
  await api(url, token, "POST", "/deployments", deployment("shadow"));
  // A steady 400 requests a second, well within what one instance serves here: the cost measured is
  // the shadow's, not a saturated machine's.
  const RATE = 400;
  const plain: number[] = [];
  const shadowed: number[] = [];
  await pacedLatencies(url, live, RATE, 1);
  for (let round = 0; round < 4; round++) {
    plain.push(...(await pacedLatencies(url, live, RATE, 2)));
    await rolloutStart({
      deployment: "shadow",
      rollout: {
        shadow: { mirror_percent: 50 },
        strategy: { wait_interval_seconds: 3600 },
        analysis: { min_requests: 1_000_000_000 },
      },
    });
    await pacedLatencies(url, live, RATE, 0.3); // the shadow bake begins after the smoke
    shadowed.push(...(await pacedLatencies(url, live, RATE, 2)));
    await api(url, token, "POST", "/endpoints/bench/rollout/abort");
  }
  const q = (xs: number[], p: number) => quantile(xs, p);
  const extraP50 = q(shadowed, 0.5) - q(plain, 0.5);
  const extraP99 = q(shadowed, 0.99) - q(plain, 0.99);

  // Start → promotion, zero bakes, under load; by hand: create, then send it all traffic.
  const pool = new Pool(url, { connections: 4 });
  let running = true;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) await postOnce(pool, live);
  });
  const byRollout: number[] = [];
  const byHand: number[] = [];
  const fast = {
    shadow: { mirror_percent: 20 },
    strategy: { wait_interval_seconds: 0 },
    keep_old: true,
    analysis: { min_requests: 1, min_compared: 1 },
  };
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await rolloutStart({
      spec: (deployment(`roll${i}`) as { spec: unknown }).spec,
      source: "bench",
      specDir: work,
      rollout: fast,
    });
    while ((await status()).state === "Running") await new Promise((r) => setTimeout(r, 5));
    const outcome = await status();
    if (outcome.state !== "Succeeded") throw new Error(`rollout ${i}: ${outcome.state} ${outcome.reason}`);
    byRollout.push(performance.now() - t);
    await api(url, token, "PATCH", "/endpoints/bench", { traffic: "blue=100" });
    t = performance.now();
    await api(url, token, "POST", "/deployments", deployment(`hand${i}`));
    await api(url, token, "PATCH", "/endpoints/bench", { traffic: `hand${i}=100` });
    byHand.push(performance.now() - t);
    await api(url, token, "PATCH", "/endpoints/bench", { traffic: "blue=100" });
    for (const name of [`roll${i}`, `hand${i}`])
      await api(url, token, "DELETE", `/endpoints/bench/deployments/${name}`);
  }
  running = false;
  await Promise.all(loops);
  await pool.close();
  await api(url, token, "DELETE", "/endpoints/bench/deployments/shadow");
  return [
    `  live requests at 400/s while 50 % are shadowed and compared: p50 ${q(shadowed, 0.5).toFixed(2)} ms (unshadowed ${q(plain, 0.5).toFixed(2)} ms, extra ${extraP50.toFixed(2)} ms), p99 ${q(shadowed, 0.99).toFixed(2)} ms (unshadowed ${q(plain, 0.99).toFixed(2)} ms, extra ${extraP99.toFixed(2)} ms = ${((100 * extraP99) / q(plain, 0.99)).toFixed(1)} % of the live p99; goal < 5 %)`,
    `  rollout start → promoted, zero bakes, smoke + shadow + canary + all: median ${median(byRollout).toFixed(0)} ms; by hand (deployment create + traffic update): ${median(byHand).toFixed(0)} ms; ratio ${(median(byRollout) / median(byHand)).toFixed(2)}`,
  ];
}

/**
 * Throughput of tensor models ([N, 10] float32, as PyTorch exports them) at concurrency 1, 8 and 64:
 * pier (gateway, checks, invoke channel; the ONNX host runs requests that arrive together as one batch)
 * against a minimal in-process server that runs one session.run per request. Two models: a single
 * Linear layer, whose run costs less than an HTTP request (so the baseline is a bare HTTP server), and
 * a 10 → 1024 → 1024 → 1 MLP, whose run is the cost batching amortises.
 */
async function tensorModelBench(
  url: string,
  token: string,
  key: string,
  deployment: (name: string) => { spec: Record<string, unknown> },
): Promise<string[]> {
  const python = process.env.PIER_PYTHON ?? "/usr/bin/python3";
  const models = join(work, "onnx");
  execFileSync(python, [join(ROOT, "test/tools/make_onnx.py"), models, "--bench"]);
  const body = JSON.stringify({ inputs: [[0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9, -1.0]] });
  const rows: string[] = [];
  for (const [model, words] of [
    ["linear10", "Linear(10, 1)"],
    ["mlp10", "MLP 10 → 1024 → 1024 → 1"],
  ] as const) {
    const modelDir = join(models, model);
    const spec = deployment(model);
    await api(url, token, "POST", "/deployments", { ...spec, spec: { ...spec.spec, model: modelDir } });
    const { match, child } = await start(
      [join(ROOT, "dist/bench/minimal-tensor-server.js"), join(modelDir, "model.onnx")],
      {},
      /^(\d+)$/,
    );
    const limitOrigin = `http://127.0.0.1:${match[1]}`;
    const target: Target = {
      path: "/endpoints/bench/invocations",
      body,
      headers: { authorization: `Bearer ${key}`, "azureml-model-deployment": model },
    };
    rows.push(`  ${words}:`);
    for (const concurrency of [1, 8, 64]) {
      const limit = await throughput(limitOrigin, { path: "/", body, headers: {} }, concurrency, 3);
      const pier = await throughput(url, target, concurrency, 3);
      rows.push(
        `    concurrency ${String(concurrency).padStart(2)}: pier ${pier.toFixed(0).padStart(6)} req/s, one run per request ${limit.toFixed(0).padStart(6)} req/s, ratio ${(pier / limit).toFixed(2)}`,
      );
    }
    child.kill();
    await api(url, token, "DELETE", `/endpoints/bench/deployments/${model}`);
  }
  return rows;
}

/**
 * Environment builds from a local wheel folder: pier's build (lock, index check, venv, pip, record) next
 * to the same venv + pip commands run bare; then a reuse, and a build on a machine with no index.
 */
async function environmentBench(python: string) {
  const wheels = join(work, "wheels");
  mkdirSync(wheels);
  execFileSync(python, [
    join(ROOT, "test/tools/make_wheel.py"),
    wheels,
    "pier-bench-pkg",
    "1.0",
    "VALUE = 1\n",
  ]);
  const pythonVersion = execFileSync(python, ["-c", "import platform; print(platform.python_version())"], {
    encoding: "utf8",
  }).trim();
  const pins = (pin: string) => [parsePipRequirement(pin, "bench", 1)];
  const bare: number[] = [];
  const built: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    const venv = join(work, `bare-${i}`);
    execFileSync(python, ["-m", "venv", "--without-pip", "--system-site-packages", venv]);
    execFileSync(
      join(venv, "bin/python"),
      ["-m", "pip", "install", "-q", "--no-index", "--find-links", wheels, "pier-bench-pkg==1.0"],
      {
        env: { ...process.env, PIP_CONFIG_FILE: "/dev/null" },
      },
    );
    bare.push(performance.now() - t);
    process.env.PIER_PIP_FIND_LINKS = wheels;
    t = performance.now();
    await buildEnvironment({
      home: join(work, `env-home-${i}`),
      basePython: python,
      pythonVersion,
      requirements: pins("pier-bench-pkg==1.0"),
    });
    built.push(performance.now() - t);
  }
  let t = performance.now();
  await buildEnvironment({
    home: join(work, "env-home-0"),
    basePython: python,
    pythonVersion,
    requirements: pins("pier-bench-pkg==1.0"),
  });
  const reuse = performance.now() - t;
  delete process.env.PIER_PIP_FIND_LINKS;
  process.env.PIER_PIP_INDEX_URL = "http://127.0.0.1:1/simple";
  t = performance.now();
  const offline = await buildEnvironment({
    home: join(work, "env-home-0"),
    basePython: python,
    pythonVersion,
    requirements: pins("pier-bench-pkg==2.0"),
  }).then(
    () => "built?",
    (error: { code?: string }) => error.code ?? "error",
  );
  const offlineMs = performance.now() - t;
  delete process.env.PIER_PIP_INDEX_URL;
  return { bare: median(bare), built: median(built), reuse, offline, offlineMs };
}

/** Fits a small classifier with the system's scikit-learn and saves it as an MLflow sklearn model folder. */
const SKLEARN_MODEL_SCRIPT = `
import os, pickle, sys, sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
X, y = load_iris(return_X_y=True)
pickle.dump(LogisticRegression(max_iter=500).fit(X, y), open(os.path.join(out, "model.pkl"), "wb"))
open(os.path.join(out, "MLmodel"), "w").write(f"""flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: {sys.version.split()[0]}
  sklearn:
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: {sklearn.__version__}
""")
`;

try {
  await main();
} finally {
  for (const child of children) child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 500));
  rmSync(work, { recursive: true, force: true });
}
