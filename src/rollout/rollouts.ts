/**
 * `pier rollout`: moves an endpoint from its stable deployment to a new one step by step (smoke →
 * shadow bake → traffic steps → promote), judges the new one at every step on its errors, latency,
 * instance incidents and answers (compared with the stable's on the same requests), and rolls back
 * by itself on any failed check. A step without enough evidence waits, never passes; past the
 * execution timeout the rollout is held with the stable serving everything. State lives in pier.db:
 * a rollout survives pier, and resumes (or rolls back) when pier starts again.
 */
import type { DeploymentSpec, RolloutSpec } from "../config/index.js";
import type { Diagnosis } from "../doctor/index.js";
import type { DeploymentTarget, Engine, EngineEvent } from "../engine/index.js";
import type { Observed, RolloutTap } from "../gateway/index.js";
import { exampleScoreBody } from "../model/index.js";
import { type Logger, PierError, userError } from "../shared/index.js";
import { type Capacity, judge, quantile, StepWindow, type WindowStats } from "./analysis.js";
import { compareAnswers, type OutputKind } from "./compare.js";
import {
  OPEN_STATES,
  type PlannedStep,
  planSteps,
  type RolloutRecord,
  type RolloutState,
  RolloutStore,
  type SideSummary,
  type StepRecord,
  stepLabel,
} from "./record.js";

export interface RolloutDeps {
  engine: Engine;
  /** Sends a body to one deployment of the endpoint, pinned as a client would: the smoke requests. */
  smoke(endpoint: string, deployment: string, body: string): Promise<{ status: number; text: string }>;
  /** The doctor's diagnoses of a deployment, attached to a rollback. */
  diagnose(endpoint: string, deployment: string): Diagnosis[];
  logger: Logger;
}

/** How often a bake is judged: often in its first second (a short bake ends as soon as its evidence is in), then less. */
const TICK_MS = 200;
const FIRST_TICKS_MS = 25;
/** How often a running step's live numbers are written to the record. */
const SAVE_EVERY_MS = 1000;
/** Instance events of the new deployment that fail a step at once. */
const INCIDENTS = new Set<EngineEvent["kind"]>([
  "OOMKilled",
  "Restarting",
  "CrashLoop",
  "Unready",
  "LivenessFailed",
  "Ejected",
]);

type StepOutcome =
  | { next: true }
  | { end: "RolledBack" | "Held" | "Aborted"; reason: string }
  | { promoteNow: true }
  | { closed: true };

function summary(side: WindowStats["candidate"]): SideSummary {
  return {
    requests: side.requests,
    failures: side.failures as Record<string, number>,
    p50Ms: side.latenciesMs.length ? Number(quantile(side.latenciesMs, 0.5).toFixed(2)) : null,
    p99Ms: side.latenciesMs.length ? Number(quantile(side.latenciesMs, 0.99).toFixed(2)) : null,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One rollout under way: the gateway's tap, and the loop that drives its steps. */
class Runner implements RolloutTap {
  window: StepWindow | undefined;
  /** The stable's latencies from the last step where it served enough, for a step where it serves none. */
  baselineMs: number[] = [];
  compareShare = 0;
  command: "abort" | "promote" | undefined;
  /** An alert's action, taken at the next tick of a bake. */
  alert: { action: "hold" | "rollback"; reason: string } | undefined;
  closed = false;
  /** The new deployment's admission against what the stable serves, measured when the rollout started. */
  capacity: Capacity | undefined;
  readonly #declared: Map<string, OutputKind>;

  constructor(
    readonly record: RolloutRecord,
    candidateTarget: DeploymentTarget | undefined,
  ) {
    this.#declared = new Map(
      (candidateTarget?.interface.outputs ?? []).map((o) => [
        o.name,
        o.kind === "zipmap" || (o.kind === "tensor" && /^float|^double|^bfloat/.test(o.dtype))
          ? "score"
          : "label",
      ]),
    );
  }

  get stable(): string {
    return this.record.stable;
  }

  get candidate(): string {
    return this.record.candidate;
  }

  observe(deployment: string, outcome: Observed): void {
    this.window?.record(deployment === this.record.candidate ? "candidate" : "stable", outcome);
  }

  compare(stableAnswer: string, candidateAnswer: string): void {
    this.window?.compare(compareAnswers(stableAnswer, candidateAnswer, this.#declared));
  }
}

export class Rollouts {
  readonly #store: RolloutStore;
  readonly #runners = new Map<string, Runner>();
  /** Aborted when pier stops: whatever waits on a rollout stops waiting. */
  readonly #closing = new AbortController();
  readonly #stopListening: () => void;

  constructor(
    home: string,
    private readonly deps: RolloutDeps,
  ) {
    this.#store = new RolloutStore(home);
    // The new deployment's instance incidents go into its step's window as they happen.
    this.#stopListening = deps.engine.store.onEvent((scope, event, message) => {
      const runner = this.#runners.get(scope.endpoint);
      if (!runner?.window || scope.deployment !== runner.candidate || !INCIDENTS.has(event.kind)) return;
      runner.window.incident(`had ${event.kind}${scope.instance ? ` on ${scope.instance}` : ""}: ${message}`);
    });
  }

  /** The rollout under way on an endpoint, as the gateway sees it. */
  tap(endpoint: string): RolloutTap | undefined {
    return this.#runners.get(endpoint);
  }

  /**
   * Who serves instead of `drawn` while it has no running instance: the stable, when `drawn` is the
   * new deployment of a rollout still open (running, held, or not yet resumed after a restart).
   */
  insteadOf(endpoint: string, drawn: string): string | undefined {
    const open = this.#runners.get(endpoint) ?? this.#store.open(endpoint);
    return open && drawn === open.candidate ? open.stable : undefined;
  }

  /** Every rollout Running or Held (for metrics): a running one as its runner has it now. */
  active(): RolloutRecord[] {
    return this.#store.openAll().map((r) => this.#runners.get(r.endpoint)?.record ?? r);
  }

  /** The live and mirrored traffic of a rollout's endpoint, by deployment. */
  weights(endpoint: string): { live: Record<string, number>; mirror: Record<string, number> } {
    const view = this.deps.engine.endpoints.show(endpoint);
    return { live: view.traffic, mirror: view.mirror_traffic };
  }

  /** The weights and disagreement of a rollout's current window, for /metrics. */
  live(endpoint: string): WindowStats | undefined {
    return this.#runners.get(endpoint)?.window?.stats;
  }

  /** Refuses a change to an endpoint's traffic, or to one of its rollout's deployments, while a rollout is open. */
  guard(endpoint: string, deployment?: string): void {
    const open = this.#store.open(endpoint);
    if (!open || (deployment !== undefined && deployment !== open.stable && deployment !== open.candidate))
      return;
    throw new PierError({
      code: "RolloutInProgress",
      summary: `Rollout #${open.id} of ${open.candidate} on '${endpoint}' is ${open.state} (step ${open.step + 1}: ${open.steps.at(-1)?.label ?? "starting"}); it owns the endpoint's traffic${deployment ? ` and ${deployment}` : ""}`,
      fix: `Let it finish (pier rollout status -e ${endpoint} --watch), or end it first: pier rollout abort -e ${endpoint}.`,
    });
  }

  /** Checks that a rollout can start on the endpoint; returns its stable deployment. */
  preflight(endpoint: string): string {
    const { engine } = this.deps;
    const view = engine.endpoints.show(endpoint);
    const open = this.#store.open(endpoint);
    if (open)
      throw new PierError({
        code: "RolloutInProgress",
        summary: `Endpoint '${endpoint}' already has rollout #${open.id} (${open.stable} → ${open.candidate}), ${open.state}${open.reason ? `: ${open.reason}` : ""}`,
        fix: `One rollout per endpoint at a time: watch it (pier rollout status -e ${endpoint} --watch), resume it (pier rollout resume -e ${endpoint}) or end it (pier rollout abort -e ${endpoint}).`,
      });
    const live = Object.entries(view.traffic).filter(([, w]) => w > 0);
    if (live.length === 0)
      throw userError(
        "RolloutNotApplicable",
        `Endpoint '${endpoint}' has no deployment with live traffic: a rollout moves traffic from a stable deployment to a new one`,
        view.deployments.length
          ? `Send its traffic to the deployment that serves now (pier endpoint update ${endpoint} --traffic "${view.deployments[0]}=100"), or create the first deployment with pier deployment create -f … --all-traffic.`
          : `Create the first deployment with pier deployment create -f blue.yml --all-traffic; roll out the next one.`,
      );
    if (live.length > 1)
      throw userError(
        "RolloutNotApplicable",
        `Endpoint '${endpoint}' splits its traffic (${live.map(([n, w]) => `${n} ${w} %`).join(", ")}): a rollout starts from one deployment serving everything`,
        `Settle it first, e.g. pier endpoint update ${endpoint} --traffic "${live[0]![0]}=100".`,
      );
    return live[0]![0];
  }

  /**
   * What a new deployment of the endpoint takes from the stable one unless its YAML says otherwise:
   * its data collection, so that monitoring goes on after the promotion (the stable is deleted then).
   * Returns the document to apply and what was inherited, in words.
   */
  inherit(
    endpoint: string,
    document: Record<string, unknown>,
  ): { document: Record<string, unknown>; notes: string[] } {
    const { engine } = this.deps;
    const live = Object.entries(engine.endpoints.show(endpoint).traffic).filter(([, w]) => w > 0);
    const stable = live.length === 1 ? engine.store.deployment(endpoint, live[0]![0]) : undefined;
    const collector = stable?.spec.data_collector;
    if (!collector || document.data_collector !== undefined) return { document, notes: [] };
    const collections = Object.keys(collector.collections ?? {});
    return {
      document: { ...document, data_collector: collector },
      notes: [
        `${String(document.name)} inherits ${stable!.name}'s data_collector (${collections.join(", ") || "no collections"}), so \`pier monitor\` goes on after the promotion; set data_collector in its YAML to change that`,
      ],
    };
  }

  /** The new deployment's admission against the most the stable has served at once. */
  #capacity(endpoint: string, stable: string, candidate: string): Capacity | undefined {
    const { engine } = this.deps;
    const mine = engine.store.deployment(endpoint, candidate)?.spec;
    const theirs = engine.store.deployment(endpoint, stable)?.spec;
    if (!mine || !theirs) return undefined;
    const slotsOf = (spec: DeploymentSpec) =>
      spec.request_settings.max_concurrent_requests_per_instance * spec.instance_count;
    const stablePeak = Math.max(engine.deployments.evidence(endpoint, stable).peakConcurrentRequests, 1);
    const slots = slotsOf(mine);
    const per = Math.max(
      Math.ceil(stablePeak / mine.instance_count),
      theirs.request_settings.max_concurrent_requests_per_instance,
    );
    return {
      slots,
      limit: 2 * slots,
      stablePeak,
      fix: `request_settings.max_concurrent_requests_per_instance: ${per} in ${candidate}'s YAML (it has ${mine.request_settings.max_concurrent_requests_per_instance}; ${stable} has ${theirs.request_settings.max_concurrent_requests_per_instance} × ${theirs.instance_count} instance(s)), or more instances`,
    };
  }

  /** Starts a rollout of `candidate` (a Succeeded deployment with no live traffic) on the endpoint. */
  start(
    endpoint: string,
    candidate: string,
    spec: RolloutSpec,
    inherited?: readonly string[],
  ): RolloutRecord {
    const stable = this.preflight(endpoint);
    const { engine } = this.deps;
    if (candidate === stable)
      throw userError(
        "RolloutNotApplicable",
        `${candidate} already serves all of '${endpoint}''s traffic`,
        "Roll out another deployment: pier rollout start -e ENDPOINT -f green.yml.",
      );
    const view = engine.deployments.show(endpoint, candidate);
    if (view.provisioning_state !== "Succeeded" || !engine.routing.target(endpoint, candidate))
      throw userError(
        "RolloutNotApplicable",
        `${candidate} is ${view.provisioning_state}${view.error ? ` (${view.error.code}: ${view.error.summary})` : ""}, not serving: a rollout needs the new deployment Ready`,
        `See why: pier doctor ${endpoint} ${candidate}; fix it and update it (pier deployment update -f …), then start the rollout again.`,
      );
    const capacity = this.#capacity(endpoint, stable, candidate);
    const plan = [...(inherited ?? [])];
    if (capacity && capacity.slots < capacity.stablePeak)
      plan.push(
        `capacity: ${candidate} takes ${capacity.slots} request(s) at once (${capacity.limit} in flight or queued) while ${stable} has served up to ${capacity.stablePeak} at once: ${capacity.limit < capacity.stablePeak ? "as its share grows it will turn requests away (429), which fails the step as capacity" : "requests will queue on it"}; set ${capacity.fix}`,
      );
    const now = new Date().toISOString();
    const record = this.#store.insert({
      endpoint,
      candidate,
      stable,
      spec,
      state: "Running",
      step: 0,
      startedAt: now,
      steps: [],
      notes: [],
      ...(plan.length ? { plan } : {}),
      deadlineAt: new Date(Date.now() + spec.maximum_execution_timeout_seconds * 1000).toISOString(),
    });
    engine.store.addEvent(
      { endpoint },
      {
        kind: "RolloutStarted",
        data: { rollout: record.id, candidate, stable, strategy: spec.strategy.type },
      },
      `rollout #${record.id} started: ${stable} → ${candidate} (${spec.strategy.type}; ${planSteps(spec)
        .map((s) => stepLabel(s, spec))
        .join(" → ")})`,
    );
    this.#launch(record).capacity = capacity;
    return record;
  }

  status(endpoint: string): RolloutRecord {
    this.deps.engine.endpoints.record(endpoint);
    const [latest] = this.#store.history(endpoint, 1);
    if (!latest)
      throw userError(
        "RolloutNotFound",
        `Endpoint '${endpoint}' has had no rollout`,
        `Start one: pier rollout start -e ${endpoint} -f green.yml`,
      );
    return latest;
  }

  history(endpoint: string): RolloutRecord[] {
    this.deps.engine.endpoints.record(endpoint);
    return this.#store.history(endpoint);
  }

  #openOrThrow(endpoint: string, states: readonly RolloutState[], verb: string): RolloutRecord {
    const open = this.#store.open(endpoint);
    if (!open || !states.includes(open.state))
      throw userError(
        "RolloutNotFound",
        `Endpoint '${endpoint}' has no ${states.join(" or ")} rollout to ${verb}${open ? ` (rollout #${open.id} is ${open.state})` : ""}`,
        `See its rollouts: pier rollout history -e ${endpoint}`,
      );
    return open;
  }

  /** Rolls back now: all traffic to the stable deployment; the new one stays at 0 % for inspection. */
  async abort(endpoint: string): Promise<RolloutRecord> {
    const open = this.#openOrThrow(endpoint, OPEN_STATES, "abort");
    const runner = this.#runners.get(endpoint);
    if (runner) {
      runner.command = "abort";
      return this.#settled(runner);
    }
    return this.#end(open, "Aborted", `aborted by the user while ${open.state}`);
  }

  /**
   * A monitoring alert's action on the endpoint's running rollout, when the alert is about its new
   * deployment: hold it where it is, or roll it back. False when there is no such rollout.
   */
  act(endpoint: string, deployment: string, action: "hold" | "rollback", reason: string): boolean {
    const runner = this.#runners.get(endpoint);
    if (runner?.record.state !== "Running" || runner.record.candidate !== deployment) return false;
    runner.alert = { action, reason };
    return true;
  }

  /** Skips the remaining analysis and promotes the new deployment now. */
  async promote(endpoint: string): Promise<RolloutRecord> {
    const open = this.#openOrThrow(endpoint, OPEN_STATES, "promote");
    const runner = this.#runners.get(endpoint) ?? this.#resumeHeld(open, "promoted by the user");
    runner.command = "promote";
    const id = runner.record.id;
    while (
      runner.record.steps.at(-1)?.label !== "promote" &&
      runner.record.state === "Running" &&
      !runner.closed
    )
      await this.deps.engine.store.nextEvent(
        (e) =>
          (e.kind === "RolloutStep" && e.data.rollout === id && e.data.label === "promote") ||
          (e.kind === "RolloutEnded" && e.data.rollout === id),
        this.#closing.signal,
      );
    return runner.record;
  }

  /** Starts a Held rollout again at the step where it stopped, with a new execution timeout. */
  resume(endpoint: string): RolloutRecord {
    const open = this.#openOrThrow(endpoint, ["Held"], "resume");
    return this.#resumeHeld(open, "resumed by the user").record;
  }

  #resumeHeld(open: RolloutRecord, why: string): Runner {
    open.state = "Running";
    open.reason = undefined;
    open.endedAt = undefined;
    open.deadlineAt = new Date(Date.now() + open.spec.maximum_execution_timeout_seconds * 1000).toISOString();
    open.notes.push(`${new Date().toISOString()} ${why} at step ${open.step + 1}`);
    this.deps.engine.store.addEvent(
      { endpoint: open.endpoint },
      { kind: "RolloutResumed", data: { rollout: open.id, step: open.step, why } },
      `rollout #${open.id} ${why} at step ${open.step + 1}`,
    );
    this.#store.save(open);
    return this.#launch(open);
  }

  /** After pier starts (and has restored its deployments): rollouts that were running resume, or roll back. */
  resumeAll(): void {
    for (const record of this.#store.running()) {
      const { engine } = this.deps;
      const step = planSteps(record.spec)[record.step];
      const stableGone = !engine.deployments.exists(record.endpoint, record.stable);
      if (step?.kind === "promote" && stableGone) {
        void this.#end(
          record,
          "Succeeded",
          "promoted; the old deployment was already deleted when pier restarted",
        );
        continue;
      }
      const notServing = [record.candidate, record.stable].find(
        (name) => !engine.routing.target(record.endpoint, name),
      );
      if (notServing) {
        void this.#end(
          record,
          "RolledBack",
          `after pier restarted, ${notServing} is not serving (${engine.deployments.exists(record.endpoint, notServing) ? engine.deployments.show(record.endpoint, notServing).provisioning_state : "deleted"}), so the rollout cannot go on`,
        );
        continue;
      }
      const why = `pier restarted during step ${record.step + 1} (${step ? stepLabel(step, record.spec) : "?"}); the step starts again with a new window`;
      record.notes.push(`${new Date().toISOString()} ${why}`);
      engine.store.addEvent(
        { endpoint: record.endpoint },
        { kind: "RolloutResumed", data: { rollout: record.id, step: record.step, why } },
        `rollout #${record.id} resumed: ${why}`,
      );
      this.#store.save(record);
      this.deps.logger.info(`rollout #${record.id} on ${record.endpoint}: ${why}`);
      this.#launch(record);
    }
  }

  /** Stops driving rollouts (pier is stopping); their state stays as it is, to resume at the next start. */
  close(): void {
    for (const runner of this.#runners.values()) runner.closed = true;
    this.#closing.abort();
    this.#runners.clear();
    this.#stopListening();
    this.#store.close();
  }

  #launch(record: RolloutRecord): Runner {
    const runner = new Runner(record, this.deps.engine.routing.target(record.endpoint, record.candidate));
    runner.capacity = this.#capacity(record.endpoint, record.stable, record.candidate);
    this.#runners.set(record.endpoint, runner);
    void this.#run(runner).catch((error: unknown) => {
      this.deps.logger.error(`rollout #${record.id}: ${(error as Error).message}`, {
        stack: (error as Error).stack ?? "",
      });
      if (!runner.closed)
        void this.#end(record, "Held", `pier failed while driving the rollout: ${(error as Error).message}`);
    });
    return runner;
  }

  /** Resolves when the runner's rollout is no longer Running. */
  async #settled(runner: Runner): Promise<RolloutRecord> {
    const id = runner.record.id;
    while (runner.record.state === "Running" && !runner.closed)
      await this.deps.engine.store.nextEvent(
        (e) => e.kind === "RolloutEnded" && e.data.rollout === id,
        this.#closing.signal,
      );
    return runner.record;
  }

  async #run(runner: Runner): Promise<void> {
    const record = runner.record;
    const steps = planSteps(record.spec);
    for (let index = record.step; index < steps.length; index++) {
      const step = steps[index]!;
      record.step = index;
      const stepRecord: StepRecord = {
        index,
        label: stepLabel(step, record.spec),
        startedAt: new Date().toISOString(),
      };
      record.steps.push(stepRecord);
      this.#store.save(record);
      this.deps.engine.store.addEvent(
        { endpoint: record.endpoint },
        { kind: "RolloutStep", data: { rollout: record.id, step: index, label: stepRecord.label } },
        `rollout #${record.id} step ${index + 1}/${steps.length}: ${stepRecord.label}`,
      );
      const outcome = await this.#step(runner, step, stepRecord);
      stepRecord.endedAt = new Date().toISOString();
      if ("closed" in outcome) return;
      if ("promoteNow" in outcome) {
        stepRecord.verdict = "done";
        stepRecord.reason = "skipped: promoted by the user";
        record.notes.push(
          `${new Date().toISOString()} promoted by the user at step ${index + 1} (${stepRecord.label}); the remaining analysis was skipped`,
        );
        index = steps.length - 2; // the loop's ++ lands on promote
        continue;
      }
      if ("end" in outcome) {
        await this.#end(record, outcome.end, outcome.reason);
        return;
      }
      this.#store.save(record);
    }
    await this.#end(
      record,
      "Succeeded",
      `${record.candidate} serves all traffic${record.spec.keep_old ? `; ${record.stable} kept at 0 %` : `; ${record.stable} deleted`}`,
    );
  }

  async #step(runner: Runner, step: PlannedStep, stepRecord: StepRecord): Promise<StepOutcome> {
    const { engine } = this.deps;
    const { endpoint, candidate, stable, spec } = runner.record;
    const setTraffic = (traffic: Record<string, number>, mirror: Record<string, number>) =>
      engine.endpoints.update(endpoint, { traffic, mirrorTraffic: mirror });
    if (step.kind === "smoke") {
      const failure = await this.#smoke(runner);
      stepRecord.verdict = failure ? "fail" : "done";
      stepRecord.reason = failure ?? "every smoke request answered 200";
      return failure ? { end: "RolledBack", reason: `smoke: ${failure}` } : { next: true };
    }
    if (step.kind === "shadow") {
      setTraffic({ [stable]: 100 }, { [candidate]: step.mirrorPercent });
      runner.compareShare = 0;
      return this.#bake(runner, step.bakeSeconds, stepRecord);
    }
    if (step.kind === "traffic") {
      setTraffic(
        step.weight === 100
          ? { [candidate]: 100 }
          : { [stable]: 100 - step.weight, [candidate]: step.weight },
        {},
      );
      runner.compareShare = spec.analysis.compare_answers ? spec.analysis.compare_percent / 100 : 0;
      return this.#bake(runner, step.bakeSeconds, stepRecord);
    }
    // Promote: everything to the new deployment; the old one kept for the termination wait.
    setTraffic({ [candidate]: 100 }, {});
    runner.compareShare = 0;
    runner.window = undefined;
    const until = Date.now() + step.terminationSeconds * 1000;
    while (Date.now() < until) {
      if (runner.closed) return { closed: true };
      if (runner.command === "abort")
        return { end: "Aborted", reason: "aborted by the user during the termination wait" };
      await sleep(Math.min(TICK_MS, until - Date.now()));
    }
    if (!spec.keep_old && engine.deployments.exists(endpoint, stable))
      await engine.deleteDeployment(endpoint, stable);
    stepRecord.verdict = "done";
    stepRecord.reason = spec.keep_old
      ? `${stable} kept at 0 % (keep_old)`
      : `${stable} deleted after ${step.terminationSeconds} s`;
    return { next: true };
  }

  /** The smoke requests, on the new deployment alone; the first failure, or undefined. */
  async #smoke(runner: Runner): Promise<string | undefined> {
    const { engine } = this.deps;
    const { endpoint, candidate, spec } = runner.record;
    const target = engine.routing.target(endpoint, candidate);
    if (!target) return `${candidate} has no Ready instance`;
    const bodies: unknown[] = [];
    if (!target.rawRequests) {
      const example = exampleScoreBody(
        engine.registry.getVersion(target.modelName, target.modelVersion).inputExample,
      );
      if (example !== undefined) bodies.push(example);
    }
    bodies.push(...spec.smoke.requests);
    for (const [i, body] of bodies.entries()) {
      const answer = await this.deps.smoke(endpoint, candidate, JSON.stringify(body));
      if (answer.status !== 200)
        return `request ${i + 1} of ${bodies.length} (${i === 0 && !target.rawRequests && bodies.length > spec.smoke.requests.length ? "the model's input example" : "from the rollout file"}) answered ${answer.status}: ${answer.text.slice(0, 200)}`;
    }
    return undefined;
  }

  /** A step's bake: judged every tick until it passes, fails, or the execution timeout holds it. */
  async #bake(runner: Runner, bakeSeconds: number, stepRecord: StepRecord): Promise<StepOutcome> {
    const { spec } = runner.record;
    const window = new StepWindow();
    runner.window = window;
    const started = Date.now();
    const deadline = Date.parse(runner.record.deadlineAt);
    let saved = 0;
    for (;;) {
      await sleep(Date.now() - started < 1000 ? FIRST_TICKS_MS : TICK_MS);
      if (runner.closed) return { closed: true };
      if (runner.command === "abort")
        return {
          end: "Aborted",
          reason: `aborted by the user at step ${stepRecord.index + 1} (${stepRecord.label})`,
        };
      if (runner.command === "promote") {
        runner.command = undefined;
        return { promoteNow: true };
      }
      if (runner.alert) {
        const { action, reason } = runner.alert;
        return {
          end: action === "hold" ? "Held" : "RolledBack",
          reason: `${action === "hold" ? "held" : "rolled back"} at step ${stepRecord.index + 1} (${stepRecord.label}): alert ${reason}`,
        };
      }
      const elapsed = Date.now() - started;
      const final = elapsed >= bakeSeconds * 1000;
      const judgement = judge(window.stats, spec.analysis, {
        final,
        compare: spec.analysis.compare_answers,
        baselineMs: runner.baselineMs,
        ...(runner.capacity ? { capacity: runner.capacity } : {}),
      });
      stepRecord.candidate = summary(window.stats.candidate);
      stepRecord.stable = summary(window.stats.stable);
      stepRecord.compared = window.stats.compared;
      stepRecord.checks = judgement.checks;
      stepRecord.verdict = judgement.verdict;
      stepRecord.reason = judgement.reason;
      if (judgement.verdict === "fail")
        return {
          end: "RolledBack",
          reason: `rolled back at step ${stepRecord.index + 1} (${stepRecord.label}): ${judgement.reason}`,
        };
      if (judgement.verdict === "pass") {
        if (window.stats.stable.latenciesMs.length >= spec.analysis.min_requests)
          runner.baselineMs = window.stats.stable.latenciesMs;
        return { next: true };
      }
      // Not enough evidence at the end of the bake: it goes on, up to its maximum, then holds.
      const maxBake = spec.analysis.max_bake_seconds ?? Math.max(5 * bakeSeconds, 300);
      if (judgement.verdict === "insufficient" && elapsed >= maxBake * 1000)
        return {
          end: "Held",
          reason: `held at step ${stepRecord.index + 1} (${stepRecord.label}): ${judgement.reason} after ${Math.round(elapsed / 1000)} s (the bake's maximum is ${maxBake} s); send traffic to the endpoint (or replay requests: pier endpoint invoke ${runner.record.endpoint} --request-file requests.jsonl) and resume it (pier rollout resume -e ${runner.record.endpoint})`,
        };
      if (Date.now() > deadline)
        return {
          end: "Held",
          reason: `held at step ${stepRecord.index + 1} (${stepRecord.label}): the execution timeout (${spec.maximum_execution_timeout_seconds} s) passed with ${judgement.reason}`,
        };
      if (Date.now() - saved > SAVE_EVERY_MS) {
        this.#store.save(runner.record);
        saved = Date.now();
      }
    }
  }

  /** Ends a rollout: traffic as the outcome needs it, the record and the endpoint's event. */
  async #end(
    record: RolloutRecord,
    state: Exclude<RolloutState, "Running">,
    reason: string,
  ): Promise<RolloutRecord> {
    const { engine } = this.deps;
    this.#runners.delete(record.endpoint);
    if (state !== "Succeeded" && engine.deployments.exists(record.endpoint, record.stable)) {
      // All traffic back to the stable at once; the new deployment stays, at 0 %, for inspection.
      engine.endpoints.update(record.endpoint, { traffic: { [record.stable]: 100 }, mirrorTraffic: {} });
      if (state === "RolledBack" && engine.deployments.exists(record.endpoint, record.candidate))
        record.diagnosis = this.deps.diagnose(record.endpoint, record.candidate);
    }
    record.state = state;
    record.reason = reason;
    record.endedAt = new Date().toISOString();
    this.#store.save(record);
    engine.store.addEvent(
      { endpoint: record.endpoint },
      { kind: "RolloutEnded", data: { rollout: record.id, state, reason } },
      `rollout #${record.id} ${state}: ${reason}`,
    );
    this.deps.logger.info(`rollout #${record.id} on ${record.endpoint} ${state}: ${reason}`);
    return record;
  }
}
