/**
 * The data plane's part in a rollout. A rollout in progress on an endpoint gives the gateway a tap:
 * every request the stable or the new deployment serves is reported to it, the new deployment's
 * answers are compared with the stable's on the same request (mirrored copies during the shadow bake,
 * a share of its own requests during the traffic steps), and a request the new deployment fails is
 * answered by the stable instead: clients never see a failing canary.
 */
import type { DeploymentTarget } from "../engine/index.js";
import type { ModelFailure } from "../runtime/index.js";
import type { Code } from "../shared/index.js";
import { HttpError } from "./http-error.js";

/** Why a request counts as failed against a deployment. */
export type FailureKind = "5xx" | "424" | "408" | "429" | "dropped" | "refused";

export type Observed = { ok: true; ms: number } | { ok: false; kind: FailureKind };

export interface RolloutTap {
  readonly stable: string;
  readonly candidate: string;
  /** Share (0–1) of the requests the new deployment serves that the stable also answers, to compare. */
  readonly compareShare: number;
  /** A request's outcome on the stable or the new deployment (a mirrored copy included). */
  observe(deployment: string, outcome: Observed): void;
  /** Both deployments' answers to one request: the stable's first. */
  compare(stableAnswer: string, candidateAnswer: string): void;
}

/** One deployment's answer to a request: what the client gets, and the text compared between deployments. */
export interface Answer {
  status: number;
  body: string | Buffer;
  headers: Record<string, string | string[]>;
  text: string;
  /** A scoring script's failure, as its host named it. */
  failure?: ModelFailure;
  /** A scoring script's server's own status, when the endpoint answered otherwise (a 422 sent as 424). */
  serverStatus?: number;
}

/** Who answered a request; `failed`: the new deployment's failure, when the stable answered instead. */
export interface Served {
  answer: Answer;
  target: DeploymentTarget;
  failed?: { status: number; code: Code; message: string };
}

/** How an error or an answer counts against the deployment that gave it; undefined for a success. */
export function failureOf(outcome: HttpError | Answer): FailureKind | undefined {
  const status = outcome.status;
  if (status < 400) return undefined;
  // A scoring script that turned the request away (its server's 4xx, the endpoint's 424) refused it.
  if (!(outcome instanceof HttpError) && outcome.serverStatus !== undefined && outcome.serverStatus < 500)
    return "refused";
  if (outcome instanceof HttpError && outcome.code === "BadGateway") return "dropped";
  if (status === 408 || status === 429 || status === 424) return String(status) as FailureKind;
  if (status >= 500) return "5xx";
  return "refused";
}

const asHttp = (error: unknown): HttpError =>
  error instanceof HttpError ? error : new HttpError("InternalError", (error as Error).message);

/**
 * Serves a request under a rollout. On the stable: counted. On the new deployment: counted, a share
 * compared with the stable's answer (in the background), and any failure answered by the stable; a
 * refusal (4xx) counts against the new deployment only when the stable accepts the same request.
 */
export async function serveInRollout(
  tap: RolloutTap,
  target: DeploymentTarget,
  stable: DeploymentTarget | undefined,
  serve: (target: DeploymentTarget) => Promise<Answer>,
  draw: () => number,
): Promise<{
  answer: Answer;
  target: DeploymentTarget;
  failed?: { status: number; code: Code; message: string };
}> {
  const started = performance.now();
  if (target.name !== tap.candidate) {
    try {
      const answer = await serve(target);
      const failure = failureOf(answer);
      tap.observe(
        target.name,
        failure ? { ok: false, kind: failure } : { ok: true, ms: performance.now() - started },
      );
      return { answer, target };
    } catch (error) {
      const failure = failureOf(asHttp(error));
      if (failure) tap.observe(target.name, { ok: false, kind: failure });
      throw error;
    }
  }
  let failure: FailureKind | undefined;
  let thrown: unknown;
  let answer: Answer | undefined;
  try {
    answer = await serve(target);
    failure = failureOf(answer);
  } catch (error) {
    thrown = error;
    failure = failureOf(asHttp(error)) ?? "5xx";
  }
  if (!failure && answer) {
    tap.observe(target.name, { ok: true, ms: performance.now() - started });
    if (stable && draw() < tap.compareShare) {
      const candidateText = answer.text;
      serve(stable).then(
        (other) => {
          if (!failureOf(other)) tap.compare(other.text, candidateText);
        },
        () => {},
      );
    }
    return { answer, target };
  }
  if (!stable) {
    tap.observe(target.name, { ok: false, kind: failure ?? "5xx" });
    if (answer) return { answer, target };
    throw thrown;
  }
  // The new deployment failed this request: the stable answers it instead.
  try {
    const instead = await serve(stable);
    const stableFailure = failureOf(instead);
    // Both refused it: the request is the client's mistake, not the new model's.
    if (!(failure === "refused" && stableFailure === "refused"))
      tap.observe(target.name, { ok: false, kind: failure! });
    tap.observe(
      stable.name,
      stableFailure ? { ok: false, kind: stableFailure } : { ok: true, ms: performance.now() - started },
    );
    const http = thrown === undefined ? undefined : asHttp(thrown);
    return {
      answer: instead,
      target: stable,
      failed: {
        status: http?.status ?? answer?.status ?? 500,
        code: http?.code ?? "ModelError",
        message: http?.message ?? answer?.text.slice(0, 300) ?? "",
      },
    };
  } catch (error) {
    const stableFailure = failureOf(asHttp(error));
    if (!(failure === "refused" && stableFailure === "refused"))
      tap.observe(target.name, { ok: false, kind: failure! });
    if (stableFailure) tap.observe(stable.name, { ok: false, kind: stableFailure });
    throw error;
  }
}

/**
 * A mirrored copy to the new deployment during the shadow bake: counted against it, and compared with
 * the live answer. A refusal counts only when the live deployment accepted the same request.
 */
export function shadowCompare(tap: RolloutTap, live: Promise<Answer>, mirrored: Promise<Answer>): void {
  const started = performance.now();
  void Promise.allSettled([live, mirrored]).then(([l, m]) => {
    const liveOk = l.status === "fulfilled" && !failureOf(l.value);
    const failure = m.status === "rejected" ? (failureOf(asHttp(m.reason)) ?? "5xx") : failureOf(m.value);
    if (failure) {
      if (failure !== "refused" || liveOk) tap.observe(tap.candidate, { ok: false, kind: failure });
      return;
    }
    tap.observe(tap.candidate, { ok: true, ms: performance.now() - started });
    if (liveOk && l.status === "fulfilled" && m.status === "fulfilled")
      tap.compare(l.value.text, m.value.text);
  });
}
