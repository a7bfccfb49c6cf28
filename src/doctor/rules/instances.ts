/** Instances after they started: crashes, probes that keep failing, instances that stopped answering. */
import { type DeploymentEvidence, eventsOf, type RecordedEvent } from "../../engine/index.js";
import type { Diagnosis } from "../types.js";
import { eventLine, lastLogLines } from "./lines.js";

/** Exit code of a host whose model failed to load (the host protocol's, as Azure's server uses). */
const LOAD_FAILED_EXIT_CODE = 3;

export function crashes(evidence: DeploymentEvidence): Diagnosis[] {
  const loop = eventsOf(evidence.events, "CrashLoop").pop();
  const exits = eventsOf(evidence.events, "ProcessExited").filter(
    (e) => !e.data.oomKilled && e.data.code !== 0 && e.data.code !== LOAD_FAILED_EXIT_CODE,
  );
  const crashedAtStart = evidence.error?.code === "ContainerCrashed";
  if (!loop && !crashedAtStart) return [];
  const lastLines = lastLogLines(evidence, 4);
  return [
    {
      code: loop ? "CrashLoop" : "ContainerCrashed",
      cause: loop
        ? `Instances keep ending after they start: ${exits.length} exits (${[...new Set(exits.map((e) => e.message.replace(/^pid \d+ ended: /, "")))].join(", ")})`
        : (evidence.error?.summary ?? "The instance ended before it was ready"),
      evidence: [...exits.slice(-3).map(eventLine), ...(loop ? [eventLine(loop)] : []), ...lastLines],
      fix: "The last log lines before each exit name the cause; a process that exits on its own (os._exit, sys.exit, a fatal signal) must not, and `pier deployment get-logs` has the whole log.",
      actions: [],
    },
  ];
}

/** Probes that keep failing: liveness restarts the instance, readiness takes it out of traffic. */
export function probes(evidence: DeploymentEvidence): Diagnosis[] {
  const out: Diagnosis[] = [];
  const failures = (probe: string) =>
    eventsOf(evidence.events, "ProbeFailed")
      .filter((e) => e.data.probe === probe)
      .slice(-3)
      .map(eventLine);
  const restarts = eventsOf(evidence.events, "LivenessFailed");
  if (restarts.length > 0) {
    const probe = evidence.spec.liveness_probe;
    out.push({
      code: "LivenessProbeFailed",
      cause: `The liveness probe failed ${probe.failure_threshold} times in a row (timeout ${probe.timeout} s) and the instance was restarted ${restarts.length} time(s)`,
      evidence: [...failures("liveness"), ...restarts.slice(-2).map(eventLine)],
      fix: `If the model is busy rather than stuck, raise liveness_probe.timeout (now ${probe.timeout}) or failure_threshold (now ${probe.failure_threshold}); otherwise find what blocks the process (its log).`,
      actions: [
        { kind: "yaml", key: "liveness_probe.failure_threshold", value: probe.failure_threshold * 3 },
      ],
    });
  }
  // An instance whose last readiness word is Unready gets no traffic now.
  const unready = new Map<string, RecordedEvent>();
  for (const e of evidence.events) {
    if (!e.instance) continue;
    if (e.kind === "Unready") unready.set(e.instance, e);
    else if (e.kind === "Ready" || e.kind === "ReadyAgain" || e.kind === "ProcessExited")
      unready.delete(e.instance);
  }
  if (unready.size > 0) {
    const probe = evidence.spec.readiness_probe;
    out.push({
      code: "ReadinessProbeFailed",
      cause: `${unready.size} instance(s) stopped passing the readiness probe (timeout ${probe.timeout} s, failure_threshold ${probe.failure_threshold}) and get no traffic until it passes again`,
      evidence: [...failures("readiness"), ...[...unready.values()].map(eventLine)],
      fix: `If the model is busy rather than stuck, raise readiness_probe.timeout (now ${probe.timeout}) or add instances; otherwise find what blocks the process (its log).`,
      actions: [{ kind: "yaml", key: "readiness_probe.timeout", value: probe.timeout * 3 }],
    });
  }
  return out;
}

/** Instances the gateway took out of rotation because they stopped answering while the others answered. */
export function stalls(evidence: DeploymentEvidence): Diagnosis[] {
  const ejected = eventsOf(evidence.events, "Ejected");
  if (ejected.length === 0) return [];
  // An instance is still out until it answers again, restarts or ends.
  const out = new Map<string, RecordedEvent & { kind: "Ejected" }>();
  for (const e of evidence.events) {
    if (!e.instance) continue;
    if (e.kind === "Ejected") out.set(e.instance, e as RecordedEvent & { kind: "Ejected" });
    else if (e.kind === "Recovered" || e.kind === "Ready" || e.kind === "ProcessExited")
      out.delete(e.instance);
  }
  const processes = new Set(ejected.map((e) => e.data.process));
  const stopped = processes.has("stopped") || processes.has("stopped by a tracer");
  const probe = evidence.spec.liveness_probe;
  return [
    {
      code: "InstanceUnresponsive",
      cause: `${out.size > 0 ? `${out.size} instance(s) stopped answering and are out of rotation now` : "An instance stopped answering for a while"} (${ejected.length} time(s) in all; process ${[...processes].join(", ")}): their requests went to the other instances`,
      evidence: ejected.slice(-3).map(eventLine),
      fix: stopped
        ? "The process was stopped (SIGSTOP: a debugger, `kill -STOP`, a frozen cgroup): resume it with `kill -CONT <pid>`, or let the liveness probe restart it."
        : `The process is alive but answered nothing and used no CPU: it waits for something that does not come (a lock, a remote call, a queue); its log and a stack dump (py-spy dump --pid <pid>) show where. The liveness probe restarts it after ${probe.failure_threshold} failures of ${probe.period} s.`,
      actions: [],
    },
  ];
}
