/** What requests met once the deployment served: timeouts, refusals past admission, the model's own failures. */
import type { DeploymentEvidence } from "../../engine/index.js";
import type { Diagnosis } from "../types.js";
import { logEvidence, quantile } from "./lines.js";

const count = (evidence: DeploymentEvidence, status: number) => evidence.outcomes[String(status)] ?? 0;
const total = (evidence: DeploymentEvidence) => Object.values(evidence.outcomes).reduce((a, b) => a + b, 0);

/** Requests that timed out (408): the timeout against the latencies measured. */
export function timeouts(evidence: DeploymentEvidence): Diagnosis[] {
  const out: Diagnosis[] = [];
  const settings = evidence.spec.request_settings;
  if (count(evidence, 408) > 0) {
    const p50 = quantile(evidence.latenciesMs, 0.5);
    const p99 = quantile(evidence.latenciesMs, 0.99);
    const late = evidence.lateAnswersMs;
    const slowest = Math.max(p99, ...late);
    const target = Math.min(
      180_000,
      Math.max(settings.request_timeout_ms * 2, Math.ceil((slowest * 2) / 100) * 100),
    );
    out.push({
      code: "RequestTimeout",
      cause: `${count(evidence, 408)} of ${total(evidence)} requests timed out (408): request_timeout_ms is ${settings.request_timeout_ms} ms${slowest > 0 ? `, and the model takes up to ${slowest.toFixed(0)} ms` : ""}`,
      evidence: [
        `requests: ${count(evidence, 408)} × 408 of ${total(evidence)} since the deployment started`,
        ...(evidence.latenciesMs.length
          ? [
              `latency of answered requests: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (${evidence.latenciesMs.length} samples)`,
            ]
          : []),
        ...(late.length
          ? [
              `${late.length} answers came after the timeout, the slowest after ${Math.max(...late).toFixed(0)} ms`,
            ]
          : []),
      ],
      fix: `Set request_settings.request_timeout_ms: ${target} (twice the slowest measured answer), or make the model faster or add instances if requests queue.`,
      actions: [{ kind: "yaml", key: "request_settings.request_timeout_ms", value: target }],
    });
  }
  return out;
}

/** Requests refused past admission (429): how many came at once against what the deployment admits. */
export function overload(evidence: DeploymentEvidence): Diagnosis[] {
  const out: Diagnosis[] = [];
  const settings = evidence.spec.request_settings;
  if (count(evidence, 429) > 0) {
    const per = settings.max_concurrent_requests_per_instance;
    // Room for everyone who came at once, and a quarter more.
    const needed = Math.min(
      1000,
      Math.max(
        per + 1,
        Math.ceil((evidence.peakConcurrentRequests * 1.25) / (2 * evidence.spec.instance_count)),
      ),
    );
    out.push({
      code: "TooManyRequests",
      cause: `${count(evidence, 429)} of ${total(evidence)} requests were refused (429): ${evidence.peakConcurrentRequests} came at once, and ${evidence.spec.instance_count} instance(s) × max_concurrent_requests_per_instance ${per} admit ${2 * per * evidence.spec.instance_count} (in flight + queued)`,
      evidence: [
        `requests: ${count(evidence, 429)} × 429 of ${total(evidence)}; at most ${evidence.peakConcurrentRequests} at once`,
      ],
      fix: `Set request_settings.max_concurrent_requests_per_instance: ${needed} (so ${2 * needed * evidence.spec.instance_count} can be in flight or queued), or raise instance_count.`,
      actions: [
        { kind: "yaml", key: "request_settings.max_concurrent_requests_per_instance", value: needed },
      ],
    });
  }
  return out;
}

/** The lines of the instances' logs that show a model's failures. */
const failureLines = (evidence: DeploymentEvidence) =>
  logEvidence(
    evidence,
    /run\(\) failed|run\(\) returned|the model answered|Traceback|Error:|onnx-host - Error/,
    6,
  );

/** Answers the model gave that JSON cannot hold (its host named the value and the remedy). */
export function unserializable(evidence: DeploymentEvidence): Diagnosis[] {
  const failure = evidence.failures.UnserializableOutput;
  if (!failure) return [];
  return [
    {
      code: "UnserializableOutput",
      cause: `${failure.count} of ${total(evidence)} requests failed: the model answered a ${failure.type ?? "value"}, which JSON cannot encode (Azure's inference server answers 500 for it, and the endpoint 424)`,
      evidence: [
        `requests: ${failure.count} × UnserializableOutput (${failure.type ?? "?"})`,
        ...failureLines(evidence),
      ],
      fix: `In run() (or the model's predict), ${failure.hint ?? "return lists, dicts, strings and numbers"} before returning: the server encodes what it returns with json.dumps.`,
      actions: [],
    },
  ];
}

/** Requests that failed inside the model (424), by the exceptions its host reported. */
export function modelErrors(evidence: DeploymentEvidence): Diagnosis[] {
  const failed = count(evidence, 424) - (evidence.failures.UnserializableOutput?.count ?? 0);
  if (failed <= 0) return [];
  const raised = Object.values(evidence.failures)
    .filter((f) => f && f.code !== "UnserializableOutput" && f.exception)
    .map((f) => `${f!.exception} × ${f!.count}`);
  return [
    {
      code: "ModelError",
      cause: `${failed} of ${total(evidence)} requests failed inside the model (424)${raised.length ? `: it raised ${raised.join(", ")}` : ""}`,
      evidence: failureLines(evidence),
      fix: "The log lines above show the model's exception; fix the input or the model code.",
      actions: [],
    },
  ];
}
