/** Limits an instance ran into while it started: memory, and the time the readiness probe allows. */
import { INSTANCE_TYPES } from "../../config/index.js";
import { type DeploymentEvidence, eventsOf } from "../../engine/index.js";
import type { FixAction } from "../../shared/index.js";
import type { Diagnosis } from "../types.js";
import { eventLine, lastLogLines, logEvidence, mib } from "./lines.js";

/** The smallest instance type whose memory holds `bytes`. */
export function smallestTypeFor(bytes: number): string | undefined {
  return [...INSTANCE_TYPES]
    .filter((t) => t.memoryGiB * 2 ** 30 >= bytes)
    .sort((a, b) => a.memoryGiB - b.memoryGiB || a.vcpus - b.vcpus)[0]?.name;
}

export function outOfMemory(evidence: DeploymentEvidence): Diagnosis[] {
  const kills = eventsOf(evidence.events, "OOMKilled");
  if (kills.length === 0) return [];
  const peak = Math.max(
    ...kills.map((e) => e.data.rssBytes),
    ...evidence.instances.map((i) => i.peakRssBytes),
  );
  // What was measured is what the process had reached when it was killed, a lower bound: leave room.
  const needed = Math.ceil(peak * 2);
  const explicit = evidence.spec.resources?.limits?.memory;
  const type = smallestTypeFor(needed);
  const action: FixAction | undefined = explicit
    ? { kind: "yaml", key: "resources.limits.memory", value: `${Math.ceil(needed / 2 ** 20 / 64) * 64}Mi` }
    : type
      ? { kind: "yaml", key: "instance_type", value: type }
      : undefined;
  return [
    {
      code: "OutOfMemory",
      cause: `An instance used ${mib(peak)} or more, over its limit of ${mib(evidence.memoryLimitBytes)} (${explicit ? `resources.limits.memory ${explicit}` : evidence.spec.instance_type}), and was killed`,
      evidence: [
        ...kills.slice(-3).map(eventLine),
        ...logEvidence(evidence, /MemoryError|Cannot allocate|holding \d+ MiB/, 3),
      ],
      fix: action
        ? `Set ${action.key}: ${action.value} (${explicit ? "twice what it had reached when it was killed" : `the smallest instance type with room for twice what it had reached when it was killed, ${mib(needed)}`}), or make the model use less memory.`
        : `No instance type holds ${mib(needed)}; make the model use less memory.`,
      actions: action ? [action] : [],
    },
  ];
}

export function slowLoad(evidence: DeploymentEvidence): Diagnosis[] {
  const timeout = eventsOf(evidence.events, "StartupTimeout").pop();
  if (!timeout) return [];
  const late = eventsOf(evidence.events, "LateReady").pop();
  const probe = evidence.spec.readiness_probe;
  const allowed = probe.initial_delay + probe.failure_threshold * probe.period;
  const budget = `the ${allowed} s the readiness probe allows (initial_delay ${probe.initial_delay} + failure_threshold ${probe.failure_threshold} × period ${probe.period})`;
  const proof = [eventLine(timeout), ...(late ? [eventLine(late)] : [])];
  if (!late) {
    const ended = evidence.events.some(
      (e) => e.kind === "ProcessExited" && e.instance === timeout.instance && e.at >= timeout.at,
    );
    return [
      {
        code: "ResourceNotReady",
        cause: `The model did not finish loading within ${budget}${ended ? "" : "; pier is still measuring how long it takes: run the doctor again shortly"}`,
        evidence: [...proof, ...lastLogLines(evidence, 3)],
        fix: "Raise readiness_probe.initial_delay to more than the load takes, or make the load faster.",
        actions: [],
      },
    ];
  }
  const seconds = late.data.startMs / 1000;
  // Room for a load half as slow again, in whole seconds.
  const initialDelay = Math.max(
    probe.initial_delay,
    Math.ceil(seconds * 1.5) - probe.failure_threshold * probe.period,
    1,
  );
  return [
    {
      code: "ResourceNotReady",
      cause: `The model takes ${seconds.toFixed(1)} s to load, more than ${budget}`,
      evidence: [...proof, ...lastLogLines(evidence, 3)],
      fix: `Set readiness_probe.initial_delay: ${initialDelay} (with failure_threshold ${probe.failure_threshold} × period ${probe.period}, ${initialDelay + probe.failure_threshold * probe.period} s for a load measured at ${seconds.toFixed(1)} s), or make the load faster.`,
      actions: [{ kind: "yaml", key: "readiness_probe.initial_delay", value: initialDelay }],
    },
  ];
}
