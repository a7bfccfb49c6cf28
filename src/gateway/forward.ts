/**
 * Admit and forward: a request waits for a free slot on a Ready instance (Azure's admission: 429 past
 * 2 × max_concurrent_requests_per_instance × instance_count, 408 past request_timeout_ms), goes to
 * the instance over its invoke channel, and the instance's answer becomes the response: its
 * predictions, a 400 for input the model refused, or a 424 for a model error. An instance that dies
 * with the request (or was replaced by an update) gets it retried once on the deployment's current
 * instances; a second loss is a 502.
 */
import type { DeploymentTarget, RoutedInstance } from "../engine/index.js";
import type { HostErrorBody, ModelFailure } from "../runtime/index.js";
import { codeInfo, isCode } from "../shared/index.js";
import { HttpError } from "./http-error.js";

/** The deployment's live target now (an update may have replaced the one a request started on). */
export type CurrentTarget = (target: DeploymentTarget) => DeploymentTarget | undefined;

/** A non-200 answer of an instance as the client's error: 400 for input it refused, 424 otherwise. */
export function instanceError(status: number, body: string): HttpError {
  let error: HostErrorBody["error"] | undefined;
  try {
    error = (JSON.parse(body) as HostErrorBody).error;
  } catch {}
  if (status === 400 && error?.kind === "input")
    return new HttpError(
      isCode(error.code) && codeInfo(error.code).http === 400 ? error.code : "BadRequest",
      error.message,
    );
  // A host that names the exception as its code (not one of the table's) gets it kept as the exception.
  const exception = error?.exception ?? (error && !isCode(error.code) ? String(error.code) : undefined);
  const failure: ModelFailure = {
    code: error && isCode(error.code) && codeInfo(error.code).class === "model" ? error.code : "ModelError",
    ...(exception ? { exception } : {}),
    ...(error?.type ? { type: error.type } : {}),
    ...(error?.hint ? { hint: error.hint } : {}),
  };
  return new HttpError(
    "ModelError",
    `The model failed: ${error?.message ?? `status ${status}`}`,
    {
      "ms-azureml-model-error-statuscode": String(status),
      "ms-azureml-model-error-reason": (exception ?? failure.code)
        .slice(0, 100)
        .replace(/[^\x20-\x7e]/g, "?"),
    },
    { ...(error?.trace ? { trace: error.trace } : {}), failure },
  );
}

/**
 * When an instance that has not answered for this long, while its deployment has others, is suspected
 * of being stuck: four times the deployment's p99 latency (at least 250 ms); none before there is a
 * p99 to go by (0), nor when it would not leave room within the request timeout (a model whose normal
 * answers take that long).
 */
export function stallAfter(requestTimeoutMs: number, p99Ms: number): number | undefined {
  if (p99Ms <= 0) return undefined;
  const stall = Math.max(250, 4 * p99Ms);
  return stall <= requestTimeoutMs * 0.6 ? stall : undefined;
}

/**
 * Watches one request on one instance: past `stallMs` with no answer from it at all while another
 * instance could take its requests, the instance is suspected (and ejected if it is stuck, not busy).
 */
function watch(target: DeploymentTarget, instance: RoutedInstance, stallMs: number | undefined): () => void {
  if (stallMs === undefined || target.instances.length < 2) return () => {};
  const sentAt = performance.now();
  const timer = setTimeout(() => {
    const client = instance.client;
    if (!client || client.lastAnswerAt >= sentAt) return; // it answered something since: slow, not stuck
    if (target.instances.some((i) => i !== instance && i.routable))
      instance.suspectStall(performance.now() - client.lastAnswerAt);
  }, stallMs);
  return () => clearTimeout(timer);
}

/**
 * Sends one request body (a JSON batch, or a scoring script's raw body) to the deployment; resolves to
 * the predictions' JSON. `served.instance` is set to the instance that answered.
 */
export async function forward(
  initial: DeploymentTarget,
  body: string,
  current: CurrentTarget,
  stallMs?: number,
  served?: { instance: string; admittedAt?: number },
): Promise<string> {
  let target = initial;
  const timeoutMs = target.requestTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  let exclude: RoutedInstance | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const admitted = await target.admission.acquire(Math.max(1, deadline - Date.now()), exclude);
    if (!admitted.ok) {
      if (admitted.reason === "overloaded")
        throw new HttpError(
          "TooManyRequests",
          `Too many requests: ${target.admission.limit} are already in flight or queued (2 × max_concurrent_requests_per_instance × instance_count)`,
          { "retry-after": "1" },
        );
      if (admitted.reason === "timeout")
        throw new HttpError(
          "RequestTimeout",
          `The request waited longer than request_timeout_ms (${timeoutMs} ms) for a free instance`,
        );
      if (attempt > 0)
        throw new HttpError(
          "BadGateway",
          "The instance ended while handling the request and no other instance is ready",
        );
      throw new HttpError("NoReadyInstance", `Deployment '${target.name}' has no Ready instance`);
    }
    if (served) served.admittedAt = performance.now();
    const client = admitted.instance.client;
    // The retry is not watched: a request that outlives two instances' silence is slow, not unlucky.
    const unwatch = watch(target, admitted.instance, attempt === 0 ? stallMs : undefined);
    const result = client
      ? await client.invoke(body, Math.max(1, deadline - Date.now()))
      : ({ failure: "connection" } as const);
    unwatch();
    admitted.release();
    if (served) served.instance = admitted.instance.id;
    if ("failure" in result) {
      if (result.failure === "timeout")
        throw new HttpError(
          "RequestTimeout",
          `The model took longer than request_timeout_ms (${timeoutMs} ms)`,
        );
      // The instance died, or an update replaced it while the request was on its way: retry once,
      // on the deployment's current instances.
      const now = current(target);
      if (now && now !== target) {
        target = now;
        exclude = undefined;
      } else {
        exclude = admitted.instance;
      }
      continue;
    }
    if (result.status === 200) return result.text;
    throw instanceError(result.status, result.text);
  }
  throw new HttpError("BadGateway", "The instance ended while handling the request, and so did the retry");
}
