/**
 * What the engine records, as one discriminated union: each kind with the data it carries. The
 * doctor, the CLI's event list and (later) rollouts and monitors read these; none of them parse the
 * message, which is for people.
 */
import type { HostLoadError } from "../runtime/index.js";
import type { Finding, PierErrorJson } from "../shared/index.js";
import type { TrafficMap } from "./traffic.js";

export type ProbeKind = "liveness" | "readiness";

export type EngineEvent =
  // Endpoints.
  | { kind: "EndpointCreated"; data: { authMode: string } }
  | { kind: "EndpointUpdated"; data: { traffic: TrafficMap; mirrorTraffic: TrafficMap } }
  | { kind: "KeyRegenerated"; data: { keyType: "primary" | "secondary" } }
  // A deployment's provisioning: one attempt runs from Creating/Updating to Succeeded or Failed.
  | { kind: "Creating" | "Updating"; data: { model: string } }
  | { kind: "EnvironmentWarning"; data: { finding: Finding } }
  | { kind: "Succeeded"; data: { ms: number } }
  | { kind: "Failed"; data: { error: PierErrorJson } }
  | { kind: "Deleted"; data: Record<string, never> }
  // An instance's process.
  | { kind: "StorageInitialized"; data: { files: number; ms: number } }
  | { kind: "ProcessStarted"; data: { pid: number; command: string } }
  | { kind: "Ready"; data: { port: number; loadMs: number; startMs: number } }
  | { kind: "ReadyAgain"; data: { successes: number } }
  | { kind: "LoadFailed"; data: { error: HostLoadError } }
  | {
      kind: "ProcessExited";
      data: {
        pid: number;
        code: number | null;
        signal: string | null;
        oomKilled: boolean;
        peakRssBytes: number;
      };
    }
  | { kind: "OOMKilled"; data: { rssBytes: number; limitBytes: number } }
  | { kind: "Restarting" | "CrashLoop"; data: { backoffMs: number; restarts: number; crashes: number } }
  | { kind: "StartupTimeout"; data: { deadlineMs: number; watchMs: number } }
  | { kind: "LateReady"; data: { startMs: number; loadMs: number; deadlineMs: number } }
  | { kind: "ProbeFailed"; data: { probe: ProbeKind; failures: number; threshold: number } }
  | { kind: "Unready"; data: { failures: number } }
  | { kind: "LivenessFailed"; data: { failures: number } }
  /** An instance that stopped answering while others answered, taken out of rotation. */
  | { kind: "Ejected"; data: { silentMs: number; process: string } }
  | { kind: "Recovered"; data: { ejectedMs: number } }
  // Autoscaling (scale_settings target_utilization): a change of count, or an instance that would not start.
  | { kind: "Scaled"; data: { from: number; to: number; slots: number; cpu: number } }
  | { kind: "ScaleFailed"; data: { instance: string; error: PierErrorJson } }
  // A rollout on the endpoint (pier rollout): a step begins, and how it ends.
  | { kind: "RolloutStarted"; data: { rollout: number; candidate: string; stable: string; strategy: string } }
  | { kind: "RolloutStep"; data: { rollout: number; step: number; label: string } }
  | {
      kind: "RolloutEnded";
      data: { rollout: number; state: "Succeeded" | "RolledBack" | "Held" | "Aborted"; reason: string };
    }
  | { kind: "RolloutResumed"; data: { rollout: number; step: number; why: string } }
  // Monitoring (monitor/)
  | {
      kind: "AlertFiring";
      data: { alert: number; rule: string; severity: string; value: number | null; action: string };
    }
  | { kind: "AlertResolved"; data: { alert: number; rule: string } }
  | { kind: "CaptureLost"; data: { records: number; reason: string } };

export type EventKind = EngineEvent["kind"];

/** The data of one kind of event. */
export type EventData<K extends EventKind> = Extract<EngineEvent, { kind: K }>["data"];

/** An event as recorded: when, where, and a line for people. */
export type RecordedEvent = EngineEvent & {
  at: string;
  /** The deployment it is about (null for the endpoint's own events). */
  deployment: string | null;
  instance: string | null;
  message: string;
};

const KINDS: ReadonlySet<string> = new Set<EventKind>([
  "EndpointCreated",
  "EndpointUpdated",
  "KeyRegenerated",
  "Creating",
  "Updating",
  "EnvironmentWarning",
  "Succeeded",
  "Failed",
  "Deleted",
  "StorageInitialized",
  "ProcessStarted",
  "Ready",
  "ReadyAgain",
  "LoadFailed",
  "ProcessExited",
  "OOMKilled",
  "Restarting",
  "CrashLoop",
  "StartupTimeout",
  "LateReady",
  "Ejected",
  "Recovered",
  "Scaled",
  "ScaleFailed",
  "ProbeFailed",
  "Unready",
  "LivenessFailed",
  "RolloutStarted",
  "RolloutStep",
  "RolloutEnded",
  "RolloutResumed",
  "AlertFiring",
  "AlertResolved",
  "CaptureLost",
]);

/** Whether a kind read back from the database is one this version of pier records. */
export const isEventKind = (kind: string): kind is EventKind => KINDS.has(kind);

/** Events of one kind, typed. */
export function eventsOf<K extends EventKind>(
  events: readonly RecordedEvent[],
  kind: K,
): (RecordedEvent & { kind: K; data: EventData<K> })[] {
  return events.filter((e): e is RecordedEvent & { kind: K; data: EventData<K> } => e.kind === kind);
}
