/**
 * The reliability suite's scenarios, each against a real `pier up` with real instance processes under
 * steady load: an instance killed, an instance frozen, pier killed and restarted, a stop with requests
 * in flight, a damaged model store, a run() killed for its memory. Each returns its figures and what
 * failed (a lost request, a status none is allowed to be); `npm run chaos` runs them at full size and
 * `test/chaos.test.ts` a CI-sized part.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { ApiClient, bearerOf } from "../../src/api/index.js";
import {
  type Cleanups,
  processGone,
  type RunningPier,
  servePier,
  startPier,
  tempDir,
  waitFor,
} from "../helpers.js";
import { byStatus, Load, type LoadTarget, quantile, throughput } from "./load.js";

export interface ChaosSize {
  /** Seconds of load in each measured window. */
  seconds: number;
  clients: number;
}

export interface ChaosReport {
  scenario: string;
  figures: Record<string, string | number>;
  /** What went wrong; empty when the scenario held. */
  failures: string[];
}

/** A trained model package (the ONNX one `pier train` makes) and its one-row request. */
export interface Workspace {
  dir: string;
  model: string;
}

const ENDPOINT = "chaos";

const api = (pier: RunningPier) => ApiClient.connect(pier.home);

async function deploy(
  pier: RunningPier,
  work: Workspace,
  yaml: Record<string, unknown>,
): Promise<LoadTarget> {
  await pier.run(["endpoint", "create", "-n", ENDPOINT]); // fails only when it exists already
  const file = join(work.dir, `${yaml.name}.yml`);
  writeFileSync(
    file,
    stringify({ endpoint_name: ENDPOINT, model: work.model, instance_type: "Standard_DS3_v2", ...yaml }),
  );
  const created = await pier.run(["deployment", "create", "-f", file, "--all-traffic"]);
  if (created.code !== 0) throw new Error(`deployment create failed:\n${created.stdout}${created.stderr}`);
  return target(pier, work);
}

/** The scoring request: one row of the model's input example, with the endpoint's key. */
async function target(pier: RunningPier, work: Workspace): Promise<LoadTarget> {
  const credentials = await api(pier).call("endpoints.credentials", { endpoint: ENDPOINT });
  const primaryKey = bearerOf(credentials);
  const example = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  return {
    url: pier.url,
    path: `/endpoints/${ENDPOINT}/score`,
    body: JSON.stringify({
      input_data: { columns: example.columns, index: [0], data: example.data.slice(0, 1) },
    }),
    headers: { authorization: `Bearer ${primaryKey}` },
  };
}

const show = (pier: RunningPier, name: string) =>
  api(pier).call("deployments.show", { endpoint: ENDPOINT, deployment: name });

/** The doctor's diagnoses of one deployment. */
const diagnoses = async (pier: RunningPier, name: string) =>
  (await api(pier).call("doctor.endpoint", { endpoint: ENDPOINT, query: { deployment: name } }))[0]!
    .diagnoses;

const events = (pier: RunningPier, name: string) =>
  api(pier).call("endpoints.events", { endpoint: ENDPOINT, query: { deployment: name } });

/** Waits until `load` has had `count` more successful answers than now (the load is flowing). */
async function flowing(load: Load, count: number): Promise<void> {
  const from = load.count(200);
  await waitFor(() => load.count(200) >= from + count, `${count} successful answers`, 30_000);
}

/** Lets the load run for `ms` from `from` (now by default), by its answers' clock: returns [from, to]. */
async function window(ms: number, from = performance.now()): Promise<[number, number]> {
  await waitFor(() => performance.now() - from >= ms, `${ms} ms of load`, ms + 5_000);
  return [from, performance.now()];
}

/**
 * PIER_CHAOS_PROFILE=FILE: the CPU profile of this process's main thread (pier's gateway and the load
 * clients) from now until the returned function is called, written as a .cpuprofile Chromium opens.
 */
async function profileMainThread(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return async () => {};
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const others = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([status]) => status !== "200")
    .map(([status, n]) => `${n} × ${status}`)
    .join(", ") || "none";

/** A port the OS has just given out and taken back: free for a restarted pier to keep its address. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `kill -9` of one of two instances, then SIGSTOP of one for a window, at `clients` clients: no request
 * may be lost to either; the frozen one is ejected and the other keeps the throughput.
 */
export async function instanceFaults(t: Cleanups, work: Workspace, size: ChaosSize): Promise<ChaosReport[]> {
  const pier = await servePier(t);
  const request = await deploy(pier, work, {
    name: "blue",
    instance_count: 2,
    request_settings: { max_concurrent_requests_per_instance: Math.max(2, size.clients / 2) },
  });
  const load = new Load(request, size.clients);
  try {
    await flowing(load, 200);

    // 1. kill -9: the requests it held are retried on the other instance; it restarts.
    const before = await show(pier, "blue");
    const victim = before.instances[0]!;
    const killedAt = performance.now();
    process.kill(victim.pid, "SIGKILL");
    await waitFor(
      async () => {
        const now = await show(pier, "blue");
        return (
          now.instances.filter((i) => i.state === "Ready").length === 2 &&
          !now.instances.some((i) => i.pid === victim.pid)
        );
      },
      "the killed instance to be Ready again",
      30_000,
    );
    const recoveryMs = performance.now() - killedAt;
    await flowing(load, 100);
    const killed = load.samples.filter((s) => s.start >= killedAt - 1000);
    const killReport: ChaosReport = {
      scenario: "instance kill -9 under load",
      figures: {
        requests: killed.length,
        "not 200": others(byStatus(killed)),
        "back to Ready (ms)": Math.round(recoveryMs),
      },
      failures: killed.some((s) => s.status !== 200) ? [`requests failed: ${others(byStatus(killed))}`] : [],
    };

    // 2. SIGSTOP: measured against a window with both instances.
    const windowMs = size.seconds * 1000;
    const [beforeFrom, beforeTo] = await window(windowMs);
    const frozen = (await show(pier, "blue")).instances[0]!;
    const frozenAt = performance.now();
    process.kill(frozen.pid, "SIGSTOP");
    let resumed = false;
    t.after(() => {
      if (!resumed) process.kill(frozen.pid, "SIGCONT");
    });
    const [stopFrom, stopTo] = await window(windowMs, frozenAt);
    const marked = (await show(pier, "blue")).instances.find((i) => i.pid === frozen.pid);
    process.kill(frozen.pid, "SIGCONT");
    resumed = true;
    const log = await waitFor(
      async () => {
        const list = await events(pier, "blue");
        return list.some((e) => e.kind === "Recovered") && list;
      },
      "the frozen instance to answer again",
      30_000,
    );
    const ejected = log.find((e) => e.kind === "Ejected");
    const during = load.samples.filter((s) => s.end >= stopFrom && s.start < stopTo);
    const ratio = throughput(load.samples, stopFrom, stopTo) / throughput(load.samples, beforeFrom, beforeTo);
    const found = await diagnoses(pier, "blue");
    const diagnosis = found.find((d) => d.code === "InstanceUnresponsive");
    const failures: string[] = [];
    if (during.some((s) => s.status !== 200))
      failures.push(`requests failed while frozen: ${others(byStatus(during))}`);
    if (!ejected) failures.push("the frozen instance was never ejected");
    if (marked?.out_of_rotation_ms === undefined)
      failures.push("deployment show does not mark the frozen instance");
    if (!diagnosis || !/process stopped/.test(diagnosis.cause))
      failures.push(`the doctor does not name the stopped instance: ${JSON.stringify(found).slice(0, 400)}`);
    const freezeReport: ChaosReport = {
      scenario: "instance SIGSTOP under load",
      figures: {
        requests: during.length,
        "not 200": others(byStatus(during)),
        "silent before ejection (ms)":
          ejected?.kind === "Ejected" ? Math.round(ejected.data.silentMs) : "never",
        "slowest answer while frozen (ms)": Math.round(
          quantile(
            during.map((s) => s.end - s.start),
            1,
          ),
        ),
        "throughput frozen / before": ratio.toFixed(2),
      },
      failures,
    };
    return [killReport, freezeReport];
  } finally {
    await load.stop();
  }
}

/**
 * `kill -9` of pier under load, then a restart on the same port and home: no instance outlives it, and
 * once the port is open again no request gets a 5xx (those that come during the restore wait for it).
 */
export async function pierKillRestart(t: Cleanups, work: Workspace, size: ChaosSize): Promise<ChaosReport> {
  const home = join(tempDir(t, "pier-chaos-"), "home");
  const port = await freePort();
  const first = await startPier(t, { home, port });
  const request = await deploy(first, work, {
    name: "blue",
    instance_count: 2,
    request_settings: { max_concurrent_requests_per_instance: Math.max(2, size.clients / 2) },
  });
  const pids = (await show(first, "blue")).instances.map((i) => i.pid);
  const load = new Load(request, size.clients);
  try {
    await flowing(load, 200);
    const killedAt = performance.now();
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    const orphans: number[] = [];
    for (const pid of pids) if (!(await processGone(pid, 10_000))) orphans.push(pid);
    const goneMs = performance.now() - killedAt;
    const restartedAt = performance.now();
    await startPier(t, { home, port });
    const openedAt = performance.now();
    await flowing(load, 200);
    const firstAnswer = load.samples.find((s) => s.status === 200 && s.start >= openedAt);
    const afterOpen = load.samples.filter((s) => s.start >= openedAt);
    const down = load.samples.filter((s) => s.start >= killedAt && s.start < openedAt);
    const failures: string[] = [];
    if (orphans.length > 0) failures.push(`instance process(es) ${orphans.join(", ")} outlived pier`);
    if (afterOpen.some((s) => s.status !== 200))
      failures.push(`after the port opened: ${others(byStatus(afterOpen))}`);
    return {
      scenario: "pier kill -9 and restart under load",
      figures: {
        requests: load.samples.length,
        "while down": others(byStatus(down)),
        "after the port opened": others(byStatus(afterOpen)),
        "instances gone after (ms)": Math.round(goneMs),
        "kill → first answer (ms)": firstAnswer ? Math.round(firstAnswer.end - killedAt) : "never",
        "start → port open (ms)": Math.round(openedAt - restartedAt),
      },
      failures,
    };
  } finally {
    await load.stop();
  }
}

/** SIGTERM while every client has a slow request in flight: each one gets its answer. */
export async function stopInFlight(t: Cleanups, work: Workspace, size: ChaosSize): Promise<ChaosReport> {
  const pier = await startPier(t);
  const clients = Math.min(size.clients, 8);
  const request = await deploy(pier, work, {
    name: "slow",
    instance_count: 1,
    request_settings: { max_concurrent_requests_per_instance: clients, request_timeout_ms: 10_000 },
    environment_variables: { PIER_CHAOS_DELAY_MS: "700" },
  });
  const load = new Load(request, clients);
  await flowing(load, clients);
  const stopAt = performance.now();
  process.kill(pier.pid, "SIGTERM");
  const code = await pier.exited;
  const stoppedMs = performance.now() - stopAt;
  await load.stop();
  const inFlight = load.samples.filter((s) => s.start < stopAt && s.end >= stopAt);
  const lost = inFlight.filter((s) => s.status !== 200);
  return {
    scenario: "SIGTERM with requests in flight",
    figures: {
      "in flight at the stop": inFlight.length,
      "answered 200": inFlight.length - lost.length,
      "stop took (ms)": Math.round(stoppedMs),
      "exit code": code,
    },
    failures: [
      ...(inFlight.length === 0 ? ["no request was in flight at the stop"] : []),
      ...(lost.length > 0 ? [`${lost.length} in-flight request(s) lost: ${others(byStatus(lost))}`] : []),
      ...(code !== 0 ? [`pier exited ${code}`] : []),
    ],
  };
}

/**
 * A registered model's blob damaged while pier is down: the restore fails with ArtifactCorrupted and
 * the doctor and `pier model verify` name it; registering from the source repairs the store, and the
 * next start brings the deployment back.
 */
export async function storeCorruption(t: Cleanups, work: Workspace): Promise<ChaosReport> {
  const home = join(tempDir(t, "pier-chaos-"), "home");
  const first = await servePier(t, { home });
  const registered = await first.run(["model", "register", work.model, "--name", "fin"]);
  if (registered.code !== 0) throw new Error(registered.stderr);
  await deploy(first, work, { name: "blue", instance_count: 1, model: "models:/fin/1" });
  await first.stop();

  const hash = execFileSync("sha256sum", [join(work.model, "model.onnx")], { encoding: "utf8" }).slice(0, 64);
  const blob = join(home, "artifacts/sha256", hash.slice(0, 2), hash);
  chmodSync(blob, 0o644);
  writeFileSync(blob, "not an onnx model any more");
  const failures: string[] = [];

  const second = await servePier(t, { home });
  const failed = await waitFor(async () => {
    const view = await show(second, "blue");
    return view.provisioning_state === "Failed" && view;
  }, "the restore to fail");
  if (failed.error?.code !== "ArtifactCorrupted")
    failures.push(`restore failed with ${failed.error?.code}, not ArtifactCorrupted`);
  const verify = await second.run(["model", "verify"]);
  if (verify.code !== 1 || !verify.stdout.includes("breaks models:/fin/1 (model.onnx)"))
    failures.push(`pier model verify did not name models:/fin/1:\n${verify.stdout}`);
  const repair = await second.run(["model", "register", work.model, "--name", "fin"]);
  if (!/was damaged or missing; replaced/.test(repair.stdout))
    failures.push(`registering did not repair:\n${repair.stdout}${repair.stderr}`);
  await second.stop();

  const startedAt = performance.now();
  const third = await servePier(t, { home });
  const request = await target(third, work);
  const back = await waitFor(
    async () => (await show(third, "blue")).provisioning_state === "Succeeded",
    "the deployment to come back",
  );
  const scored = await fetch(`${request.url}${request.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: request.body,
  });
  if (scored.status !== 200) failures.push(`scoring after the repair answered ${scored.status}`);
  return {
    scenario: "model store damaged while pier is down",
    figures: {
      "restore error": failed.error?.code ?? "none",
      "verify exit code": verify.code,
      "retried at the next start": back ? "yes" : "no",
      "start → serving again (ms)": Math.round(performance.now() - startedAt),
    },
    failures,
  };
}

/** A scoring script whose run() allocates past the memory limit: 502 at once, and the doctor says OutOfMemory. */
export async function outOfMemoryInRun(t: Cleanups, work: Workspace): Promise<ChaosReport> {
  const pier = await servePier(t, { env: { PIER_FIDELITY: "local" } });
  const code = join(work.dir, "oom-code");
  mkdirSync(code, { recursive: true });
  writeFileSync(
    join(code, "score.py"),
    [
      "import json",
      "def init():",
      "    pass",
      "def run(raw):",
      "    held = [bytearray(32 * 2**20) for _ in range(64)]  # 2 GiB, past the 512 MiB limit",
      "    return {'held': len(held)}",
      "",
    ].join("\n"),
  );
  writeFileSync(join(work.dir, "oom-env.yml"), "name: oom\ndependencies:\n  - python=3.11\n");
  await deploy(pier, work, {
    name: "hungry",
    instance_count: 1,
    code_configuration: { code: "./oom-code", scoring_script: "score.py" },
    environment: { conda_file: "./oom-env.yml", image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04" },
    resources: { limits: { memory: "512Mi" } },
  });
  const request = await target(pier, work);
  const sentAt = performance.now();
  const answer = await fetch(`${request.url}${request.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: request.body,
  });
  const answeredMs = performance.now() - sentAt;
  const body = await answer.text();
  const [first] = await diagnoses(pier, "hungry");
  const failures: string[] = [];
  if (answer.status !== 502) failures.push(`answered ${answer.status}, not 502: ${body.slice(0, 300)}`);
  if (first?.code !== "OutOfMemory")
    failures.push(`the doctor's first diagnosis is ${first?.code}, not OutOfMemory`);
  return {
    scenario: "run() killed for its memory mid-request",
    figures: {
      status: answer.status,
      "answered after (ms)": Math.round(answeredMs),
      doctor: first?.code ?? "none",
    },
    failures,
  };
}

/**
 * The small requests the load scenarios measure: deployment blue, two instances with room for every
 * client, and the one-row request it answers (its columns and row, for building larger bodies).
 */
async function smallLoadTarget(
  server: RunningPier,
  work: Workspace,
  size: ChaosSize,
  settings: { request_timeout_ms: number },
  extra: Record<string, unknown> = {},
): Promise<{ small: LoadTarget; row: { columns: string[]; data: unknown[][] } }> {
  const small = await deploy(server, work, {
    name: "blue",
    instance_count: 2,
    request_settings: { max_concurrent_requests_per_instance: Math.max(2, size.clients / 2), ...settings },
    ...extra,
  });
  const row = (JSON.parse(small.body) as { input_data: { columns: string[]; data: unknown[][] } }).input_data;
  return { small, row };
}

/**
 * Small requests while two clients send 4 MiB bodies (about 12,000 rows each): how much the large
 * ones slow the small ones (p50 and p99 next to the same small load alone).
 */
export async function largeBodies(t: Cleanups, work: Workspace, size: ChaosSize): Promise<ChaosReport> {
  const pier = await servePier(t);
  const { small, row } = await smallLoadTarget(pier, work, size, { request_timeout_ms: 60_000 });
  const rowBytes = JSON.stringify(row.data[0]).length + 1;
  const rows = Math.floor((4 * 2 ** 20) / rowBytes);
  const large: LoadTarget = {
    ...small,
    body: JSON.stringify({
      input_data: {
        columns: row.columns,
        index: Array.from({ length: rows }, (_, i) => i),
        data: Array.from({ length: rows }, () => row.data[0]),
      },
    }),
  };
  const smallLoad = new Load(small, size.clients);
  let bigLoad: Load | undefined;
  try {
    await flowing(smallLoad, 200);
    const [aloneFrom, aloneTo] = await window(size.seconds * 1000);
    bigLoad = new Load(large, 2);
    await waitFor(() => bigLoad!.count(200) >= 2, "two large answers", 60_000);
    const [withFrom, withTo] = await window(size.seconds * 1000);
    const latencies = (from: number, to: number) =>
      smallLoad.samples
        .filter((s) => s.status === 200 && s.start >= from && s.end < to)
        .map((s) => s.end - s.start);
    const alone = latencies(aloneFrom, aloneTo);
    const withLarge = latencies(withFrom, withTo);
    const bigDone = bigLoad.samples.filter((s) => s.start >= withFrom && s.end < withTo);
    const notOk = [...smallLoad.samples, ...bigLoad.samples].filter((s) => s.status !== 200);
    return {
      scenario: "small requests next to 4 MiB ones",
      figures: {
        "large body (MiB)": (large.body.length / 2 ** 20).toFixed(1),
        "large requests answered": bigDone.length,
        "large p50 (ms)": Math.round(
          quantile(
            bigDone.map((s) => s.end - s.start),
            0.5,
          ),
        ),
        "small p50 alone / with large (ms)": `${quantile(alone, 0.5).toFixed(1)} / ${quantile(withLarge, 0.5).toFixed(1)}`,
        "small p99 alone / with large (ms)": `${quantile(alone, 0.99).toFixed(1)} / ${quantile(withLarge, 0.99).toFixed(1)}`,
        "small throughput with / alone": (withLarge.length / alone.length).toFixed(2),
      },
      failures: notOk.length ? [`requests failed: ${others(byStatus(notOk))}`] : [],
    };
  } finally {
    await smallLoad.stop();
    await bigLoad?.stop();
  }
}

/**
 * The data plane never waits for the control plane: small scoring requests while, all at once, a
 * pipeline trains (and scores its held-out rows), exports are written, monitoring reports read 100k
 * captured rows and two clients send 4 MiB bodies. Against the same small load alone: p99 within 2×,
 * throughput at least 0.8.
 */
export async function managementBeside(t: Cleanups, work: Workspace, size: ChaosSize): Promise<ChaosReport> {
  const server = await servePier(t);
  const { pier } = server;
  const { small, row } = await smallLoadTarget(
    server,
    work,
    size,
    { request_timeout_ms: 90_000 },
    { data_collector: { collections: { model_inputs: { enabled: "True" } } } },
  );
  const batch = (rows: number) =>
    JSON.stringify({
      input_data: {
        columns: row.columns,
        index: Array.from({ length: rows }, (_, i) => i),
        data: Array.from({ length: rows }, () => row.data[0]),
      },
    });
  // 100k captured rows for the monitoring reports to read.
  for (let i = 0; i < 50; i++) {
    const response = await fetch(`${small.url}${small.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...small.headers },
      body: batch(2000),
    });
    if (response.status !== 200)
      throw new Error(`capture batch: ${response.status} ${await response.text()}`);
  }
  await pier.monitoring.capture.flush();
  const rowBytes = JSON.stringify(row.data[0]).length + 1;
  const large: LoadTarget = { ...small, body: batch(Math.floor((4 * 2 ** 20) / rowBytes)) };

  const smallLoad = new Load(small, size.clients);
  let bigLoad: Load | undefined;
  const counts = {
    pipelineStarted: 0,
    pipelineRuns: 0,
    registrations: 0,
    exports: 0,
    reports: 0,
    reportRows: 0,
  };
  let busy = false;
  const loops: Promise<void>[] = [];
  const api = (path: string, body: unknown) =>
    pier.fetch(`/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${pier.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    await flowing(smallLoad, 200);
    const [aloneFrom, aloneTo] = await window(size.seconds * 1000);
    busy = true;
    // PIER_CHAOS_BESIDE=training,exports,registrations,reports,large picks what runs beside (all by default).
    const beside = (what: string) =>
      !process.env.PIER_CHAOS_BESIDE || process.env.PIER_CHAOS_BESIDE.split(",").includes(what);
    bigLoad = new Load(large, beside("large") ? 2 : 0);
    const dir = tempDir(t, "pier-chaos-exports-");
    // A pipeline that trains and scores its held-out rows, then waits for an approval it never gets.
    loops.push(
      (async () => {
        while (busy && beside("training")) {
          const started = await api("/pipeline/runs", {
            document: {
              name: `busy-${counts.pipelineRuns}`,
              data: { synthetic: { rows: 20_000, seed: counts.pipelineRuns } },
              target: "HighAmount",
              train: { search: 4, seed: counts.pipelineRuns },
              approval: { required: true },
              register: { model: "busy" },
              rollout: { endpoint: "busy", deployment: { instance_type: "Standard_F2s_v2" } },
            },
            source: "busy.yml",
            baseDir: dir,
          });
          const { id } = (await started.json()) as { id: number };
          counts.pipelineStarted++;
          await waitFor(
            () => !busy || pier.pipelineRuns.get(id).state !== "Running",
            "the run's steps",
            600_000,
          );
          counts.pipelineRuns++;
        }
      })(),
      (async () => {
        while (busy && beside("exports")) {
          const answer = await api(`/endpoints/${ENDPOINT}/export`, {
            target: "azureml",
            out: join(dir, `export-${counts.exports}`),
          });
          if (answer.status !== 200) throw new Error(`export: ${answer.status} ${await answer.text()}`);
          counts.exports++;
        }
      })(),
      (async () => {
        // A 64 MiB model registered again and again: copied into the store and hashed each time.
        const weights = join(dir, "weights");
        mkdirSync(weights, { recursive: true });
        writeFileSync(join(weights, "weights.bin"), randomBytes(64 * 2 ** 20));
        while (busy && beside("registrations")) {
          await pier.registry.register(weights, { name: "weights", type: "custom_model" });
          counts.registrations++;
        }
      })(),
      (async () => {
        while (busy && beside("reports")) {
          const report = await pier.monitoring.report(ENDPOINT, Date.now() - 3_600_000, Date.now(), "blue");
          counts.reportRows = report.deployments[0]!.captured.rows;
          counts.reports++;
        }
      })(),
    );
    if (beside("large")) await waitFor(() => bigLoad!.count(200) >= 1, "a large answer", 120_000);
    const profile = await profileMainThread(process.env.PIER_CHAOS_PROFILE);
    const [withFrom, withTo] = await window(size.seconds * 1000);
    await profile();
    busy = false;
    const latencies = (from: number, to: number) =>
      smallLoad.samples
        .filter((s) => s.status === 200 && s.start >= from && s.end < to)
        .map((s) => s.end - s.start);
    const alone = latencies(aloneFrom, aloneTo);
    const besides = latencies(withFrom, withTo);
    // A large request takes what the small ones leave: counted when its answer came in the window.
    const bigAnswered = bigLoad.samples
      .filter((s) => s.status === 200 && s.end >= withFrom && s.end < withTo)
      .map((s) => s.end - s.start);
    const p99Ratio = quantile(besides, 0.99) / quantile(alone, 0.99);
    const throughputRatio = besides.length / alone.length;
    const notOk = [...smallLoad.samples, ...bigLoad.samples].filter((s) => s.status !== 200);
    const failures = [
      ...(p99Ratio > 2 ? [`small p99 is ${p99Ratio.toFixed(2)}× alone (at most 2× expected)`] : []),
      ...(throughputRatio < 0.8
        ? [`small throughput is ${throughputRatio.toFixed(2)} of alone (at least 0.8 expected)`]
        : []),
      ...(notOk.length ? [`requests failed: ${others(byStatus(notOk))}`] : []),
    ];
    return {
      scenario: "small requests beside training, exports, registrations, 100k-row reports and 4 MiB bodies",
      figures: {
        "pipeline runs started / ended (20k rows, search 4)": `${counts.pipelineStarted} / ${counts.pipelineRuns}`,
        "exports written": counts.exports,
        "registrations (64 MiB each)": counts.registrations,
        "monitoring reports (rows each)": `${counts.reports} (${counts.reportRows})`,
        "large answers in the window (median s)": `${bigAnswered.length} (${(quantile(bigAnswered, 0.5) / 1000).toFixed(1)})`,
        "small p50 alone / beside (ms)": `${quantile(alone, 0.5).toFixed(1)} / ${quantile(besides, 0.5).toFixed(1)}`,
        "small p99 alone / beside (ms)": `${quantile(alone, 0.99).toFixed(1)} / ${quantile(besides, 0.99).toFixed(1)}`,
        "small p99 beside / alone": p99Ratio.toFixed(2),
        "small throughput beside / alone": throughputRatio.toFixed(2),
      },
      failures,
    };
  } finally {
    busy = false;
    await Promise.allSettled(loops);
    await smallLoad.stop();
    await bigLoad?.stop();
  }
}
