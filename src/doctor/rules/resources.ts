/** Limits an instance ran into while it started: memory, and the time the readiness probe allows. */
import { totalmem } from "node:os";
import { INSTANCE_TYPES } from "../../config/index.js";
import { type DeploymentEvidence, eventsOf } from "../../engine/index.js";
import type { FixAction } from "../../shared/index.js";
import type { Diagnosis } from "../types.js";
import { eventLine, lastLogLines, logEvidence, mib } from "./lines.js";

/** The smallest instance type whose memory holds `bytes`. */
export function smallestTypeFor(bytes: number): string | undefined {
  // A CPU size: a GPU size is no answer to memory.
  return [...INSTANCE_TYPES]
    .filter((t) => !t.gpus && t.memoryGiB * 2 ** 30 >= bytes)
    .sort((a, b) => a.memoryGiB - b.memoryGiB || a.vcpus - b.vcpus)[0]?.name;
}

const UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** The allocation that could not be made, as numpy (and pier's own chaos host) say it in the log. */
function failedAllocationBytes(evidence: DeploymentEvidence): number | undefined {
  const sizes = evidence.logs
    .flatMap((l) => l.lines)
    .map((line) => /Unable to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)\b/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]) * UNITS[m[2]!]!);
  return sizes.length > 0 ? Math.max(...sizes) : undefined;
}

/** The largest CPU instance type: how far a memory fix can grow. */
const largestType = () =>
  [...INSTANCE_TYPES].filter((t) => !t.gpus).sort((a, b) => b.memoryGiB - a.memoryGiB)[0]!;

/**
 * A load that failed because an allocation was refused outright (numpy's "Unable to allocate"): more
 * than this machine can give at once, before any limit of pier's was reached.
 */
function refusedAllocation(evidence: DeploymentEvidence): Diagnosis[] {
  const failed = eventsOf(evidence.events, "LoadFailed").pop();
  const message = failed?.data.error ? `${failed.data.error.type}: ${failed.data.error.message}` : "";
  const size = /Unable to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)\b/.exec(message);
  if (!failed || !size) return [];
  const allocation = Number(size[1]) * UNITS[size[2]!]!;
  const peak = Math.max(0, ...evidence.instances.map((i) => i.peakRssBytes));
  const needed = Math.ceil((peak + allocation) * 1.1);
  const type = smallestTypeFor(needed);
  const machine = totalmem();
  return [
    {
      code: "OutOfMemory",
      cause: `The model asked for ${mib(allocation)} at once while loading and was refused: ${message}`,
      evidence: [
        eventLine(failed),
        `this machine has ${mib(machine)}; the deployment's limit is ${mib(evidence.memoryLimitBytes)} (${evidence.spec.instance_type})`,
      ],
      fix:
        needed > machine
          ? `This machine cannot give it ${mib(needed)}; ${type ? `in Azure, instance_type: ${type} holds it (pier export azureml)` : "no instance type holds it either"}, or make the model allocate less.`
          : type
            ? `Set instance_type: ${type} (room for ${mib(allocation)} on top of what the process had, and a tenth more: ${mib(needed)}), or make the model allocate less.`
            : `No instance type holds ${mib(needed)}; make the model allocate less.`,
      actions:
        type && needed <= machine && needed > evidence.memoryLimitBytes
          ? [{ kind: "yaml", key: "instance_type", value: type }]
          : [],
    },
  ];
}

export function outOfMemory(evidence: DeploymentEvidence): Diagnosis[] {
  const kills = eventsOf(evidence.events, "OOMKilled");
  if (kills.length === 0) return refusedAllocation(evidence);
  const peak = Math.max(
    ...kills.map((e) => e.data.rssBytes),
    ...evidence.instances.map((i) => i.peakRssBytes),
  );
  // What was measured is what the process had reached when it was killed, a lower bound. When the log
  // says what it was allocating, room for that on top of the peak; otherwise twice the peak.
  const allocation = failedAllocationBytes(evidence);
  const needed = allocation ? Math.ceil((peak + allocation) * 1.1) : Math.ceil(peak * 2);
  const basis = allocation
    ? `what it had reached (${mib(peak)}) plus the ${mib(allocation)} it was allocating, and a tenth more`
    : `twice what it had reached when it was killed (${mib(peak)})`;
  const explicit = evidence.spec.resources?.limits?.memory;
  const largest = largestType();
  // Up to the largest size: past it, the largest is the most a fix can give.
  const type =
    smallestTypeFor(needed) ??
    (largest.memoryGiB * 2 ** 30 > evidence.memoryLimitBytes ? largest.name : undefined);
  const action: FixAction | undefined = explicit
    ? { kind: "yaml", key: "resources.limits.memory", value: `${Math.ceil(needed / 2 ** 20 / 64) * 64}Mi` }
    : type
      ? { kind: "yaml", key: "instance_type", value: type }
      : undefined;
  const short = !explicit && type === largest.name && largest.memoryGiB * 2 ** 30 < needed;
  return [
    {
      code: "OutOfMemory",
      cause: `An instance used ${mib(peak)} or more, over its limit of ${mib(evidence.memoryLimitBytes)} (${explicit ? `resources.limits.memory ${explicit}` : evidence.spec.instance_type}), and was killed`,
      evidence: [
        ...kills.slice(-3).map(eventLine),
        ...logEvidence(evidence, /MemoryError|Cannot allocate|Unable to allocate|holding \d+ MiB/, 3),
      ],
      fix: action
        ? `Set ${action.key}: ${action.value} (${explicit ? basis : short ? `the largest instance type pier knows, ${largest.memoryGiB} GiB, though ${basis} is ${mib(needed)}` : `the smallest instance type with room for ${basis}: ${mib(needed)}`}), or make the model use less memory.`
        : `No instance type holds ${mib(needed)} (${basis}); make the model use less memory.`,
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
