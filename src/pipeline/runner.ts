/**
 * `pier pipeline run`, driven in `pier up`: data check → train → evaluate challenger and champion on
 * the same held-out rows → gate → (approval) → register as @challenger → rollout to the endpoint →
 * @champion moves on promotion. Data, training and evaluation are cached by the content they come
 * from, so a re-run with nothing changed skips them and says so. Each step is recorded as it ends;
 * a failed or interrupted run can be resumed from where it stopped.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec, parsePipelineSpec } from "../config/index.js";
import type { Engine } from "../engine/index.js";
import { listFolderFiles } from "../model/index.js";
import type { Rollouts } from "../rollout/index.js";
import {
  type Logger,
  PIER_VERSION,
  PierError,
  regularInputFile,
  toPierError,
  userError,
} from "../shared/index.js";
import { type Evaluation, holdoutFractionOf, runWork, type TrainReport } from "../training/index.js";
import { judgeGate } from "./gate.js";
import { type RunRecord, RunStore, type StepName, type StepRecord } from "./record.js";

/** The fewest rows the gate compares two models on. */
const MIN_GATE_ROWS = 100;

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

export interface WorkflowDeps {
  engine: Engine;
  rollouts: Rollouts;
  logger: Logger;
}

/** Stops a run where it is: the step's outcome, recorded as the run's end. */
class RunEnded extends Error {
  constructor(
    readonly state: RunRecord["state"],
    readonly outcome: string,
  ) {
    super(outcome);
  }
}

export class PipelineRuns {
  readonly #store: RunStore;
  readonly #cache: string;
  readonly #running = new Map<number, Promise<void>>();
  readonly #decisions = new Map<number, (decision: NonNullable<RunRecord["approval"]>) => void>();
  /** Aborted when pier stops: the run's steps stop waiting. */
  readonly #closed = new AbortController();

  constructor(
    readonly home: string,
    readonly deps: WorkflowDeps,
  ) {
    this.#store = new RunStore(home);
    this.#cache = join(home, "pipeline-cache");
    // Runs this process did not finish (pier was stopped or killed) wait to be resumed.
    for (const run of this.#store.open()) {
      run.state = "Interrupted";
      run.outcome = `interrupted when pier stopped during ${run.steps.at(-1)?.name ?? "its start"}: pier pipeline resume ${run.id}`;
      this.#store.save(run);
    }
  }

  start(document: unknown, source: string, baseDir: string, force: boolean): RunRecord {
    const spec = parsePipelineSpec(document, source, baseDir);
    const record = this.#store.insert({
      name: spec.name,
      state: "Running",
      startedAt: new Date().toISOString(),
      source,
      document,
      spec,
      forced: force,
      steps: [],
    });
    this.#launch(record);
    return record;
  }

  list(): RunRecord[] {
    return this.#store.list();
  }

  get(id: number): RunRecord {
    const run = this.#store.get(id);
    if (!run) throw userError("NotFound", `There is no pipeline run #${id}`, "List them: pier pipeline runs");
    return run;
  }

  /** A person's decision on a run waiting at its approval step. */
  decide(id: number, decision: "approved" | "rejected", by: string, comment: string): RunRecord {
    const run = this.get(id);
    const resolve = this.#decisions.get(id);
    if (run.state !== "WaitingApproval" || !resolve)
      throw userError(
        "BadArgument",
        `Run #${id} is ${run.state}, not waiting for approval`,
        `See it: pier pipeline show ${id}`,
      );
    resolve({ decision, by, at: new Date().toISOString(), comment });
    return this.get(id);
  }

  /** Runs a failed or interrupted run again from where it stopped (cached steps are skipped). */
  resume(id: number): RunRecord {
    const run = this.get(id);
    if (run.state !== "Failed" && run.state !== "Interrupted")
      throw userError(
        "BadArgument",
        `Run #${id} is ${run.state}; only a Failed or Interrupted run resumes`,
        `Start a new one: pier pipeline run -f ${run.source}`,
      );
    run.state = "Running";
    run.error = undefined;
    run.outcome = undefined;
    run.endedAt = undefined;
    run.steps = run.steps.filter(
      (s) => s.state !== "failed" && s.state !== "running" && s.state !== "waiting",
    );
    this.#store.save(run);
    this.#launch(run);
    return run;
  }

  /** Resolves when the run is no longer Running (tests; the CLI polls instead). */
  async settled(id: number): Promise<RunRecord> {
    await this.#running.get(id);
    return this.get(id);
  }

  close(): void {
    this.#closed.abort();
    this.#store.close();
  }

  #launch(run: RunRecord): void {
    const done = this.#run(run).catch((error: unknown) => {
      this.deps.logger.error(`pipeline run #${run.id}: ${(error as Error).message}`, {
        stack: (error as Error).stack ?? "",
      });
    });
    this.#running.set(run.id, done);
  }

  async #run(run: RunRecord): Promise<void> {
    try {
      const data = await this.#step(run, "data", () => this.#data(run));
      const trained = await this.#step(run, "train", () => this.#train(run, data));
      await this.#step(run, "evaluate", () => this.#evaluate(run, data, trained));
      await this.#step(run, "gate", async () => this.#gate(run));
      if (run.spec.approval.required) await this.#step(run, "approval", () => this.#approval(run));
      await this.#step(run, "register", async () => this.#register(run, trained));
      await this.#step(run, "rollout", () => this.#rollout(run));
      this.#end(run, "Succeeded", run.outcome ?? "promoted");
    } catch (error) {
      if (this.#closed.signal.aborted) return;
      if (error instanceof RunEnded) this.#end(run, error.state, error.outcome);
      else {
        const e = toPierError(error);
        run.error = e.toJSON();
        this.#end(run, "Failed", `${run.steps.at(-1)?.name ?? "start"} failed: ${e.code}: ${e.summary}`);
      }
    }
  }

  #end(run: RunRecord, state: RunRecord["state"], outcome: string): void {
    run.state = state;
    run.outcome = outcome;
    run.endedAt = new Date().toISOString();
    this.#store.save(run);
    this.deps.logger.info(`pipeline run #${run.id} ${state}: ${outcome}`);
  }

  /** Runs one step (or finds it done in an earlier attempt of this run), recording it. */
  async #step<T>(
    run: RunRecord,
    name: StepName,
    body: () => Promise<{ value: T; detail: string; cached?: boolean; key?: string }>,
  ): Promise<T> {
    const step: StepRecord = { name, state: "running", startedAt: new Date().toISOString() };
    run.steps = run.steps.filter((s) => s.name !== name);
    run.steps.push(step);
    this.#store.save(run);
    const started = performance.now();
    try {
      const { value, detail, cached, key } = await body();
      Object.assign(step, {
        state: cached ? "cached" : "done",
        detail,
        ms: Math.round(performance.now() - started),
        ...(key ? { key } : {}),
      });
      this.#store.save(run);
      return value;
    } catch (error) {
      Object.assign(step, {
        // A step that ended the run on its verdict ran to the end, but it is no success: "stopped".
        state: error instanceof RunEnded && error.state !== "Failed" ? "stopped" : "failed",
        detail: error instanceof RunEnded ? error.outcome : toPierError(error).summary,
        ms: Math.round(performance.now() - started),
      });
      this.#store.save(run);
      throw error;
    }
  }

  async #data(run: RunRecord): Promise<{ value: string; detail: string; cached: boolean; key: string }> {
    const data = run.spec.data;
    let path: string;
    let cached = false;
    if ("synthetic" in data) {
      const key = sha256(`synthetic ${data.synthetic.rows} ${data.synthetic.seed} ${PIER_VERSION}`);
      path = join(this.#cache, "data", `${key}.csv`);
      cached = existsSync(path);
      if (!cached) {
        mkdirSync(join(this.#cache, "data"), { recursive: true });
        await runWork(
          { kind: "synthesize", path: `${path}.tmp`, rows: data.synthetic.rows, seed: data.synthetic.seed },
          { signal: this.#closed.signal },
        );
        renameSync(`${path}.tmp`, path);
      }
    } else
      path = regularInputFile(
        data.path,
        "The pipeline's data",
        "Fix data.path in the pipeline file (relative to it).",
      );
    // Read and hashed in a child process: a data file of gigabytes (or on a slow disk) never stalls scoring.
    const { sha256: digest, rows } = await runWork(
      { kind: "inspect", path },
      { signal: this.#closed.signal },
    );
    run.inputs = { data: path, sha256: digest, rows };
    return {
      value: path,
      detail: `${rows} rows, sha256 ${run.inputs.sha256.slice(0, 12)}…${cached ? " (synthesized before)" : ""}`,
      cached,
      key: run.inputs.sha256,
    };
  }

  async #train(
    run: RunRecord,
    dataPath: string,
  ): Promise<{
    value: { dir: string; key: string; report: TrainReport };
    detail: string;
    cached: boolean;
    key: string;
  }> {
    const t = run.spec.train;
    const params = {
      ...(t.n_estimators !== undefined ? { nEstimators: t.n_estimators } : {}),
      ...(t.max_depth !== undefined ? { maxDepth: t.max_depth } : {}),
      ...(t.min_samples_leaf !== undefined ? { minSamplesLeaf: t.min_samples_leaf } : {}),
    };
    const key = sha256(
      JSON.stringify({ data: run.inputs!.sha256, target: run.spec.target, t, PIER_VERSION }),
    );
    const root = join(this.#cache, "train", key);
    const dir = join(root, "model");
    run.params = { target: run.spec.target, ...t };
    const reportFile = join(root, "report.json");
    if (existsSync(reportFile)) {
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as TrainReport;
      run.leakage = report.leakage;
      return {
        value: { dir, key, report },
        detail: `unchanged inputs and settings: the model trained before (${report.forest.trees} trees)`,
        cached: true,
        key,
      };
    }
    const staging = `${root}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    // Trained in a child process at the lowest priority: scoring requests come first on a busy machine.
    const { report } = await runWork(
      {
        kind: "train",
        options: {
          dataPath,
          outDir: join(staging, "model"),
          target: run.spec.target,
          seed: t.seed,
          search: t.search,
          folds: t.folds,
          testFraction: t.test_fraction,
          params,
        },
      },
      { signal: this.#closed.signal },
    );
    writeFileSync(join(staging, "report.json"), JSON.stringify(report));
    rmSync(root, { recursive: true, force: true });
    renameSync(staging, root);
    run.leakage = report.leakage;
    return {
      value: { dir, key, report: { ...report, outDir: dir } },
      detail: `${report.forest.trees} trees on ${report.split.train} rows; held-out ROC AUC ${report.metrics.roc_auc.toFixed(4)}`,
      cached: false,
      key,
    };
  }

  /** The champion: the registered model's @champion version, if any. */
  #championVersion(name: string): number | undefined {
    const registry = this.deps.engine.registry;
    try {
      return registry.getModel(name).aliases.champion;
    } catch {
      return undefined;
    }
  }

  async #evaluate(
    run: RunRecord,
    dataPath: string,
    trained: { dir: string; key: string },
  ): Promise<{ value: undefined; detail: string; cached: boolean; key: string }> {
    const championVersion = this.#championVersion(run.spec.register.model);
    const key = sha256(`${trained.key} ${run.spec.register.model} ${championVersion ?? "none"}`);
    const file = join(this.#cache, "evaluate", `${key}.json`);
    let cached = existsSync(file);
    let result: {
      challenger: Evaluation;
      champion: { version: number; evaluation: Evaluation } | null;
      /** Rows both were scored on: held out by both. */
      rows: number;
    };
    if (cached) result = JSON.parse(readFileSync(file, "utf8")) as typeof result;
    else {
      const t = run.spec.train;
      // Rows neither model was trained on: held out by content, below the smaller of the two fractions.
      const registry = this.deps.engine.registry;
      let fraction = t.test_fraction;
      if (championVersion !== undefined) {
        const version = registry.getVersion(run.spec.register.model, championVersion);
        const theirs = holdoutFractionOf(version.mlmodel.metadata);
        if (theirs === undefined)
          throw userError(
            "GateUnfair",
            `The champion models:/${run.spec.register.model}/${championVersion} does not record which rows it was trained on (no MLmodel metadata.holdout), so no rows can be shown to be new to it`,
            `Retrain the champion with this pier (its package then records its held-out rows), or move @champion to such a version: pier model alias set ${run.spec.register.model} champion <VERSION>.`,
          );
        fraction = Math.min(fraction, theirs);
      }
      let championDir: string | undefined;
      if (championVersion !== undefined) {
        championDir = join(
          this.#cache,
          "champions",
          `${sha256(run.spec.register.model).slice(0, 16)}-${championVersion}`,
        );
        if (!existsSync(championDir))
          registry.download(registry.getVersion(run.spec.register.model, championVersion), championDir);
      }
      // Both models score the same held-out rows in a child process, off the thread that serves.
      const scored = await runWork(
        {
          kind: "evaluate",
          dataPath,
          target: run.spec.target,
          testFraction: fraction,
          minRows: MIN_GATE_ROWS,
          models: championDir ? [trained.dir, championDir] : [trained.dir],
        },
        { signal: this.#closed.signal },
      );
      const { positives } = scored;
      if (scored.evaluations.length === 0)
        throw userError(
          "GateEvidenceInsufficient",
          `Only ${scored.rows} rows (${positives} positive) are held out by both the challenger (test_fraction ${t.test_fraction}) and the champion${fraction < t.test_fraction ? ` (test_fraction ${fraction})` : ""}: too few to compare them`,
          `Use more data or a larger train.test_fraction (at least ${MIN_GATE_ROWS} rows with 5 of each class are needed).`,
        );
      const challenger = scored.evaluations[0]!;
      const champion: typeof result.champion =
        championVersion !== undefined
          ? { version: championVersion, evaluation: scored.evaluations[1]! }
          : null;
      result = { challenger, champion, rows: scored.rows };
      mkdirSync(join(this.#cache, "evaluate"), { recursive: true });
      writeFileSync(file, JSON.stringify(result));
      cached = false;
    }
    run.challenger = { key: trained.key, dir: trained.dir, evaluation: result.challenger };
    run.champion = result.champion;
    const auc = (e: Evaluation) => e.metrics.roc_auc.toFixed(4);
    return {
      value: undefined,
      detail: `challenger ROC AUC ${auc(result.challenger)}${result.champion ? `; champion v${result.champion.version} ${auc(result.champion.evaluation)} on the same ${result.rows} held-out rows, new to both` : ` on ${result.rows} held-out rows; no champion yet`}`,
      cached,
      key,
    };
  }

  async #gate(run: RunRecord): Promise<{ value: undefined; detail: string }> {
    const gate = judgeGate(
      run.spec.gate,
      run.challenger!.evaluation.metrics as unknown as Record<string, number>,
      run.champion ? (run.champion.evaluation.metrics as unknown as Record<string, number>) : null,
      run.leakage ?? [],
    );
    run.gate = gate;
    const detail = `${gate.verdict}${gate.reasons.length ? `: ${gate.reasons.join("; ")}` : ` (${gate.rows.length} rule(s) passed)`}`;
    if (gate.verdict !== "PROMOTE") {
      if (!run.forced) throw new RunEnded(gate.verdict === "HOLD" ? "Held" : "Rejected", `gate ${detail}`);
      return { value: undefined, detail: `${detail} (passed by --force)` };
    }
    return { value: undefined, detail };
  }

  async #approval(run: RunRecord): Promise<{ value: undefined; detail: string }> {
    run.state = "WaitingApproval";
    const step = run.steps.find((s) => s.name === "approval");
    if (step) step.state = "waiting";
    this.#store.save(run);
    const decision = await new Promise<NonNullable<RunRecord["approval"]>>((resolve) =>
      this.#decisions.set(run.id, resolve),
    );
    this.#decisions.delete(run.id);
    run.approval = decision;
    run.state = "Running";
    const detail = `${decision.decision} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ""}`;
    if (decision.decision === "rejected") throw new RunEnded("Rejected", `approval ${detail}`);
    return { value: undefined, detail };
  }

  async #register(
    run: RunRecord,
    trained: { dir: string },
  ): Promise<{ value: undefined; detail: string; cached: boolean }> {
    const registry = this.deps.engine.registry;
    const name = run.spec.register.model;
    // The same files as a version registered before (a re-run with nothing changed): that version.
    const files = listFolderFiles(trained.dir)
      .map((path) => `${path}:${sha256(readFileSync(join(trained.dir, path)))}`)
      .sort()
      .join("\n");
    let existing: number | undefined;
    try {
      existing = [...registry.getModel(name).versions].reverse().find(
        (v) =>
          registry
            .getVersion(name, v)
            .artifacts.map((a) => `${a.path}:${a.sha256}`)
            .sort()
            .join("\n") === files,
      );
    } catch {}
    const version =
      existing ??
      (
        await registry.register(trained.dir, {
          name,
          description: `pipeline ${run.spec.name}, run #${run.id}`,
          versionTags: {
            pipeline: run.spec.name,
            run: String(run.id),
            ...(run.forced ? { forced: "true" } : {}),
          },
        })
      ).version;
    registry.setAlias(name, "challenger", version);
    run.registered = { name, version };
    return {
      value: undefined,
      detail: `models:/${name}/${version} @challenger${existing !== undefined ? " (the same files as this version: not registered again)" : ""}`,
      cached: existing !== undefined,
    };
  }

  async #rollout(run: RunRecord): Promise<{ value: undefined; detail: string; cached?: boolean }> {
    const { engine, rollouts } = this.deps;
    const { endpoint, deployment, parsed } = run.spec.rollout;
    const { name, version } = run.registered!;
    const registry = engine.registry;
    if (!engine.store.endpoint(endpoint))
      engine.endpoints.create(
        parseEndpointSpec({ name: endpoint, auth_mode: "key" }, `pipeline ${run.spec.name}`),
      );
    const route = engine.endpoints.route(endpoint);
    const live = Object.entries(route?.traffic ?? {}).filter(([, w]) => w > 0);
    const serving = live
      .map(([d]) => engine.store.deployment(endpoint, d)!)
      .find((d) => d.modelName === name && d.modelVersion === version);
    if (serving && live.length === 1) {
      registry.setAlias(name, "champion", version);
      run.rollout = {
        id: null,
        state: "Succeeded",
        reason: `models:/${name}/${version} already serves ${endpoint}`,
      };
      run.outcome = `models:/${name}/${version} is the champion (it already served ${endpoint})`;
      return {
        value: undefined,
        detail: `nothing to roll out: ${serving.name} already serves models:/${name}/${version}`,
        cached: true,
      };
    }
    const candidate = `run${run.id}`;
    run.deployment = candidate;
    // The stable's data collection goes with it, unless the pipeline's deployment sets its own.
    const inheriting =
      live.length === 1
        ? rollouts.inherit(endpoint, { ...deployment, name: candidate })
        : { document: { ...deployment, name: candidate }, notes: [] };
    const spec = parseDeploymentSpec(
      {
        ...inheriting.document,
        name: candidate,
        endpoint_name: endpoint,
        model: `models:/${name}/${version}`,
      },
      `pipeline ${run.spec.name}`,
    );
    const view = await engine.applyDeployment(spec, {
      specDir: this.home,
      mode: "create",
      allTraffic: live.length === 0,
    });
    if (view.provisioning_state !== "Succeeded")
      throw view.error
        ? PierError.fromJSON(view.error)
        : userError(
            "BadArgument",
            `${endpoint}/${candidate} ended ${view.provisioning_state}`,
            `pier doctor -e ${endpoint} -n ${candidate}`,
          );
    if (live.length === 0) {
      registry.setAlias(name, "champion", version);
      run.rollout = {
        id: null,
        state: "Succeeded",
        reason: "the endpoint had no live deployment: the first model takes all traffic",
      };
      run.outcome = `models:/${name}/${version} promoted to @champion (first deployment of ${endpoint})`;
      return {
        value: undefined,
        detail: `${candidate} deployed with all traffic (no stable deployment to roll out from)`,
      };
    }
    const rollout = rollouts.start(endpoint, candidate, parsed, inheriting.notes);
    run.rollout = { id: rollout.id, state: rollout.state };
    this.#store.save(run);
    for (;;) {
      const now = rollouts.history(endpoint).find((r) => r.id === rollout.id)!;
      run.rollout = { id: now.id, state: now.state, ...(now.reason ? { reason: now.reason } : {}) };
      if (now.state !== "Running") break;
      if (this.#closed.signal.aborted) return { value: undefined, detail: "pier stopped during the rollout" };
      // The rollout says when it ends; nothing is read until it does.
      await this.deps.engine.store.nextEvent(
        (e) => e.kind === "RolloutEnded" && e.data.rollout === rollout.id,
        this.#closed.signal,
      );
    }
    if (run.rollout.state === "Succeeded") {
      registry.setAlias(name, "champion", version);
      run.outcome = `models:/${name}/${version} promoted to @champion by rollout #${rollout.id}`;
      return {
        value: undefined,
        detail: `rollout #${rollout.id} Succeeded: ${candidate} serves ${endpoint}`,
      };
    }
    throw new RunEnded(
      run.rollout.state === "Held" ? "Held" : "RolledBack",
      `rollout #${rollout.id} ${run.rollout.state}: ${run.rollout.reason ?? ""}`,
    );
  }
}
