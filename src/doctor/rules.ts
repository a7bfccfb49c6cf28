/**
 * From evidence to diagnoses. Each rule looks for one cause and, when it finds it, names it with a
 * stable code, the lines that show it, and the change that removes it. Rules never guess: a cause
 * without evidence is not reported.
 */
import { dirname } from "node:path";
import { INSTANCE_TYPES, modelPathOf } from "../config/index.js";
import {
  blankEvidence,
  type DeploymentEvidence,
  eventsOf,
  type PreflightEvidence,
  type RecordedEvent,
} from "../engine/index.js";
import { distributionOf } from "../env/index.js";
import type { Code, Finding, FixAction, PierErrorJson } from "../shared/index.js";
import type { Diagnosis } from "./types.js";

/** Exit code of a host whose model failed to load (the host protocol's, as Azure's server uses). */
const LOAD_FAILED_EXIT_CODE = 3;

/** What to fix first: a model that cannot be read before an environment, before a load, before load-time limits. */
const RANK: Partial<Record<Code, number>> = {
  MLmodelMissing: 0,
  MLmodelNested: 0,
  MLmodelIsFolder: 0,
  MLmodelMalformed: 0,
  FlavorsMissing: 0,
  ArtifactMissing: 1,
  ArtifactLfsPointer: 1,
  ArtifactEmpty: 1,
  ArtifactPathEscapes: 1,
  EnvFileMissing: 1,
  EnvFileMalformed: 1,
  RequirementMalformed: 1,
  SignatureMalformed: 1,
  InputExampleMissing: 1,
  InputExampleMalformed: 1,
  InputExampleMismatch: 1,
  EnvironmentUnresolvable: 2,
  NumpyAbiConflict: 2,
  PythonNotFound: 3,
  EnvironmentBuilderMissing: 3,
  PackageMissing: 3,
  PickleVersionDrift: 4,
  ModuleNotShipped: 4,
  PythonVersionMismatch: 3,
  InstalledVersionsDiffer: 3,
  UserScriptImportError: 4,
  UserScriptFunctionNotFound: 4,
  UserScriptInitFailed: 4,
  UserScriptRunInvalid: 4,
  ModelLoadFailed: 4,
  OutOfMemory: 5,
  ResourceNotReady: 6,
  CrashLoop: 7,
  ContainerCrashed: 7,
  LivenessProbeFailed: 8,
  ReadinessProbeFailed: 8,
  InstanceUnresponsive: 8,
  RequestTimeout: 9,
  TooManyRequests: 9,
  ModelError: 10,
};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const eventLine = (e: RecordedEvent) =>
  `event ${e.at} ${e.kind}${e.instance ? ` [${e.instance}]` : ""}: ${e.message}`;
const findingLine = (f: Finding) =>
  `finding ${f.code} (${f.severity}) in ${f.evidence.file}${f.evidence.line ? `:${f.evidence.line}` : ""}${f.evidence.key ? ` ${f.evidence.key}` : ""}: ${f.message}`;

/** Log lines matching `pattern`, each with its file and line number; at most `limit`. */
function logEvidence(evidence: DeploymentEvidence, pattern: RegExp, limit = 6): string[] {
  const out: string[] = [];
  for (const log of evidence.logs) {
    log.lines.forEach((line, index) => {
      if (out.length < limit && pattern.test(line)) out.push(`${log.path}:${index + 1}: ${line.trim()}`);
    });
  }
  return out;
}

/** The last `count` non-empty lines of each inference-server log, with file and line number. */
function lastLogLines(evidence: DeploymentEvidence, count: number): string[] {
  return evidence.logs
    .filter((log) => log.source.startsWith("inference-server"))
    .flatMap((log) =>
      log.lines
        .map((line, i) => ({ line, i }))
        .filter((x) => x.line.trim())
        .slice(-count)
        .map((x) => `${log.path}:${x.i + 1}: ${x.line.trim()}`),
    );
}

const quantile = (xs: number[], q: number) =>
  xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** The actions an error's own findings carry (the first finding is its cause). */
const errorActions = (error: PierErrorJson): FixAction[] => error.data?.findings?.[0]?.actions ?? [];

/** The findings of a model package that failed its checks when a deployment registered it. */
export const registrationFindings = (error: PierErrorJson | null): Finding[] =>
  error?.code === "ModelValidationFailed" ? (error.data?.findings ?? []) : [];

/** Packages that do not support the pinned Python: one cause per file, however many packages. */
function unresolvableDiagnoses(findings: readonly Finding[]): Diagnosis[] {
  const unsupported = findings.filter((f) => f.code === "PythonUnsupported");
  return [...new Set(unsupported.map((f) => f.evidence.file))].map((file): Diagnosis => {
    const group = unsupported.filter((f) => f.evidence.file === file);
    const needs = group.map(
      (f) => `${f.subject?.package} ${f.subject?.version} needs ${f.subject?.requires}`,
    );
    const python = group[0]!.subject?.python;
    const actions = group[0]!.actions ?? [];
    const pin = actions.find((a) => a.kind === "pin");
    return {
      code: "EnvironmentUnresolvable",
      cause: `${file} pins a Python that ${group.length} of its pinned packages do not support (${needs.join("; ")}): the environment cannot be resolved`,
      evidence: group.map(findingLine),
      fix: pin
        ? `In ${file}, pin ${pin.requirement.replace("==", "=")} (the oldest Python every pinned package here supports), or pin releases that support Python ${python}.`
        : `The pins in ${file} need Pythons that do not overlap; pin releases that support Python ${python}.`,
      actions,
    };
  });
}

/** Validation errors of the model package, from registration or a failed registration. */
function packageFindings(evidence: DeploymentEvidence): Diagnosis[] {
  const fromError = registrationFindings(evidence.error);
  const seen = new Set<string>();
  const findings = [...fromError, ...evidence.findings].filter((f) => {
    const k = `${f.code}|${f.evidence.file}|${f.evidence.line ?? ""}`;
    if (f.severity !== "error" || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const unresolvable = unresolvableDiagnoses(findings);
  const others = findings
    .filter((f) => f.code !== "PythonUnsupported")
    .map((f): Diagnosis => {
      const actions: FixAction[] = [...(f.actions ?? [])];
      if (f.code === "MLmodelNested") {
        const path = modelPathOf(evidence.spec);
        const nested = dirname(f.evidence.file);
        if (path)
          actions.push({ kind: "yaml", key: "model.path", value: `${path.replace(/\/+$/, "")}/${nested}` });
      }
      return { code: f.code, cause: f.message, evidence: [findingLine(f)], fix: f.fix, actions };
    });
  return [...unresolvable, ...others];
}

/** The environment could not be prepared: a missing package, pins pip cannot meet, no interpreter. */
function environmentFailure(evidence: DeploymentEvidence): Diagnosis[] {
  // A failed validation may carry the environment check of the same folder as well.
  const alongside = evidence.error?.data?.environment;
  return [
    ...environmentError(evidence, evidence.error),
    ...(alongside ? environmentError(evidence, alongside) : []),
  ];
}

function environmentError(
  evidence: DeploymentEvidence,
  error: PierErrorJson | null | undefined,
): Diagnosis[] {
  if (!error) return [];
  if (error.code === "EnvironmentBuildFailed") {
    const unavailable = error.data?.unavailable;
    const newest = unavailable?.available[unavailable.available.length - 1];
    const conda = evidence.spec.environment;
    const file =
      typeof conda === "object" && conda?.conda_file ? String(conda.conda_file) : "requirements.txt";
    return [
      {
        code: "EnvironmentUnresolvable",
        cause: `The environment's pins cannot be installed: ${error.summary}`,
        evidence: error.details.filter((d) => /ERROR|error:|conflict|build log/i.test(d)).slice(0, 8),
        fix:
          unavailable && newest
            ? `Pin ${unavailable.package}==${newest} (the versions the package source has: ${unavailable.available.join(", ")}) in ${file}.`
            : (error.fix ?? "Fix the pins pip names."),
        actions:
          unavailable && newest
            ? [{ kind: "pin", file, requirement: `${unavailable.package}==${newest}` }]
            : [],
      },
    ];
  }
  if (!ENVIRONMENT_CODES.has(error.code)) return [];
  const findings = error.data?.findings ?? [];
  // Pins that cannot resolve: a Python most packages do not support (one cause per file), numpy 2 with
  // packages built for 1 (each its own), named by the findings themselves.
  if (error.code === "EnvironmentUnresolvable" && findings.length > 0)
    return [
      ...unresolvableDiagnoses(findings),
      ...environmentFindingDiagnoses(findings.filter((f) => f.code !== "PythonUnsupported")),
    ];
  // The environment check's error: the cause it leads with (its summary says what the build could not do),
  // then each further finding behind it as its own diagnosis, with its own fix and actions.
  const [first, ...rest] = findings;
  return [
    {
      code: error.code,
      cause: error.summary,
      evidence: [
        ...(first ? [findingLine(first)] : []),
        ...error.details.filter((d) => !rest.some((f) => d.includes(f.message))).slice(0, 8),
      ],
      fix: error.fix ?? "",
      actions: errorActions(error),
    },
    ...environmentFindingDiagnoses(rest),
  ];
}

/** Findings of the environment check, each as its own diagnosis. */
function environmentFindingDiagnoses(findings: readonly Finding[]): Diagnosis[] {
  return findings.map(
    (f): Diagnosis => ({
      code: f.code,
      cause: f.message,
      evidence: [findingLine(f)],
      fix: f.fix,
      actions: f.actions ?? [],
    }),
  );
}

/** Codes the environment check ends a deployment with (a validation failure is read from its findings). */
const ENVIRONMENT_CODES: ReadonlySet<Code> = new Set([
  "EnvironmentUnresolvable",
  "PackageMissing",
  "PickleVersionDrift",
  "NumpyAbiConflict",
  "ModuleNotShipped",
  "PythonVersionMismatch",
  "InstalledVersionsDiffer",
  "PythonNotFound",
  "EnvironmentBuilderMissing",
  "EnvFileMissing",
  "EnvFileMalformed",
  "RequirementMalformed",
  "RuntimeNotAvailable",
  "IndexUnreachable",
]);

const NUMPY_ABI =
  /numpy\.dtype size changed|compiled using NumPy 1\.x cannot be run in\s+NumPy 2|_ARRAY_API not found|numpy\.core\.multiarray failed to import/;

/** The pip package that provides a module (cv2 → opencv-python, azureml.core → azureml-core). */
function pipNameOf(module: string): string {
  const [top, second] = module.split(".");
  if (top === "azureml" && second) return `azureml-${second.replaceAll("_", "-")}`;
  return distributionOf(top!) ?? top!.replaceAll("_", "-");
}

/** The model or the scoring script failed while loading: which kind of failure, from the host's report. */
function loadFailure(evidence: DeploymentEvidence): Diagnosis[] {
  const last = eventsOf(evidence.events, "LoadFailed").pop();
  const reported = last?.data.error;
  if (!last || !reported) return [];
  const traceback = reported.traceback ?? [];
  const script = evidence.spec.code_configuration?.scoring_script;
  const userFrames = script
    ? traceback.filter((l) => l.includes(`${script}", line`)).map((l) => `traceback: ${l.trim()}`)
    : [];
  const logLines = logEvidence(
    evidence,
    new RegExp(`${reported.type}|Error:|${script ?? "\\u0000"}", line`),
    8,
  );
  const base = [eventLine(last), ...userFrames, ...logLines];
  const text = `${reported.type}: ${reported.message}`;
  const missingModule = reported.module;
  if (reported.type === "UserScriptImportError")
    return [
      {
        code: "UserScriptImportError",
        cause: `${script} fails to import: ${reported.message}`,
        evidence: base,
        fix: missingModule
          ? `Add ${pipNameOf(missingModule)} (the package that provides '${missingModule}') to the pip list of the environment's conda file, pinned to the version ${script} was written for (${pipNameOf(missingModule)}==VERSION); pier builds it before the instances start. Or fix the import in ${script}.`
          : `Fix the import error at the frame shown in ${script}.`,
        actions: [],
      },
    ];
  if (reported.type === "UserScriptFunctionNotFound")
    return [
      {
        code: "UserScriptFunctionNotFound",
        cause: reported.message,
        evidence: base,
        fix: `Define both init() and run(raw_data) at the top level of ${script}, as Azure's inference server calls them.`,
        actions: [],
      },
    ];
  if (reported.type === "UserScriptRunInvalid")
    return [
      {
        code: "UserScriptRunInvalid",
        cause: `${script}: ${reported.message} Azure's inference server refuses to load such a script.`,
        evidence: base,
        fix: `Declare run() with one named parameter for the input (run(data), or run(data, request_headers) for the headers; with @input_schema, one parameter per decorated input), without *args, **kwargs or positional-only parameters, and not both @rawhttp and @input_schema.`,
        actions: [],
      },
    ];
  if (reported.type === "UserScriptInitFailed")
    return [
      {
        code: "UserScriptInitFailed",
        cause: reported.message,
        evidence: base,
        fix: `Fix init() in ${script} at the frame shown${userFrames[0] ? ` (${userFrames[userFrames.length - 1]!.replace(/^traceback: /, "")})` : ""}; the deployment stays Failed until init() returns.`,
        actions: [],
      },
    ];
  if (NUMPY_ABI.test(`${text}\n${traceback.join("\n")}`))
    return [
      {
        code: "NumpyAbiConflict",
        cause: `A compiled package was built for another numpy major version: ${reported.message}`,
        evidence: base,
        fix: "Pin numpy<2 with packages built for numpy 1 (e.g. numpy==1.26.4), or upgrade the package to a release built for numpy 2.",
        actions: [],
      },
    ];
  const drift = eventsOf(evidence.events, "EnvironmentWarning").find(
    (e) => e.data.finding.code === "PickleVersionDrift",
  );
  const unpickling =
    /No module named|Can't get attribute|has no attribute|ModuleNotFoundError|AttributeError/.test(text);
  if (drift && unpickling) {
    const finding = drift.data.finding;
    const saved = finding.subject?.version;
    return [
      {
        code: "PickleVersionDrift",
        cause: `The pickle was made by another scikit-learn and cannot be loaded here: ${text}`,
        evidence: [...base, eventLine(drift)],
        fix: `Serve it with the scikit-learn that made it${saved ? ` (${saved})` : ""}: pin scikit-learn==${saved ?? "<version>"} in the model's requirements and build that environment (\`pier env build --model …\`, with a package index or PIER_PIP_FIND_LINKS), or retrain and log the model with the scikit-learn installed here.`,
        actions: finding.actions ?? [],
      },
    ];
  }
  if (missingModule) {
    const top = missingModule.split(".")[0]!;
    const distribution = distributionOf(top);
    return [
      distribution
        ? {
            code: "PackageMissing",
            cause: `Loading the model imports '${missingModule}', from ${distribution}, which the interpreter does not have: ${text}`,
            evidence: base,
            fix: `Pin ${distribution}==<the version the model was trained with> in the model's requirements; pier builds that environment before the instances start (\`pier env build --model …\` does it ahead of time).`,
            actions: [],
          }
        : {
            code: "ModuleNotShipped",
            cause: `Loading the model imports '${missingModule}', which neither the interpreter nor the model package has: the project's own code was left out of the package (${text})`,
            evidence: base,
            fix: `Log the model with code_paths=["${missingModule.replaceAll(".", "/")}.py"] (MLflow copies it under code/ and records MLmodel's \`code\` key; pier puts it on sys.path for every flavor). If ${top} is a package from PyPI, pin it in the model's requirements instead.`,
            actions: [],
          },
    ];
  }
  return [
    {
      code: "ModelLoadFailed",
      cause: `The model failed to load: ${text}`,
      evidence: base,
      fix: "Fix the error at the last frame of the traceback; `pier model validate` checks the package itself.",
      actions: [],
    },
  ];
}

/** The smallest instance type whose memory holds `bytes`. */
function smallestTypeFor(bytes: number): string | undefined {
  return [...INSTANCE_TYPES]
    .filter((t) => t.memoryGiB * 2 ** 30 >= bytes)
    .sort((a, b) => a.memoryGiB - b.memoryGiB || a.vcpus - b.vcpus)[0]?.name;
}

function outOfMemory(evidence: DeploymentEvidence): Diagnosis[] {
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

function slowLoad(evidence: DeploymentEvidence): Diagnosis[] {
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

function crashes(evidence: DeploymentEvidence, already: Set<Code>): Diagnosis[] {
  const loop = eventsOf(evidence.events, "CrashLoop").pop();
  const exits = eventsOf(evidence.events, "ProcessExited").filter(
    (e) => !e.data.oomKilled && e.data.code !== 0 && e.data.code !== LOAD_FAILED_EXIT_CODE,
  );
  const crashedAtStart = evidence.error?.code === "ContainerCrashed";
  if (!loop && !crashedAtStart) return [];
  if (already.has("OutOfMemory") || already.has("ModelLoadFailed")) return [];
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
function probes(evidence: DeploymentEvidence): Diagnosis[] {
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
function stalls(evidence: DeploymentEvidence): Diagnosis[] {
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

function requests(evidence: DeploymentEvidence): Diagnosis[] {
  const out: Diagnosis[] = [];
  const count = (status: number) => evidence.outcomes[String(status)] ?? 0;
  const total = Object.values(evidence.outcomes).reduce((a, b) => a + b, 0);
  const settings = evidence.spec.request_settings;
  if (count(408) > 0) {
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
      cause: `${count(408)} of ${total} requests timed out (408): request_timeout_ms is ${settings.request_timeout_ms} ms${slowest > 0 ? `, and the model takes up to ${slowest.toFixed(0)} ms` : ""}`,
      evidence: [
        `requests: ${count(408)} × 408 of ${total} since the deployment started`,
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
  if (count(429) > 0) {
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
      cause: `${count(429)} of ${total} requests were refused (429): ${evidence.peakConcurrentRequests} came at once, and ${evidence.spec.instance_count} instance(s) × max_concurrent_requests_per_instance ${per} admit ${2 * per * evidence.spec.instance_count} (in flight + queued)`,
      evidence: [
        `requests: ${count(429)} × 429 of ${total}; at most ${evidence.peakConcurrentRequests} at once`,
      ],
      fix: `Set request_settings.max_concurrent_requests_per_instance: ${needed} (so ${2 * needed * evidence.spec.instance_count} can be in flight or queued), or raise instance_count.`,
      actions: [
        { kind: "yaml", key: "request_settings.max_concurrent_requests_per_instance", value: needed },
      ],
    });
  }
  if (count(424) > 0) {
    const lines = logEvidence(
      evidence,
      /run\(\) failed|run\(\) returned|Traceback|Error:|onnx-host - Error/,
      6,
    );
    const unencodable = lines
      .map((l) => /run\(\) returned an? (\S+) that JSON cannot encode.*: (.+)$/.exec(l))
      .find(Boolean);
    out.push({
      code: "ModelError",
      cause: unencodable
        ? `${count(424)} of ${total} requests failed: run() returned a ${unencodable[1]}, which Azure's inference server cannot JSON-encode (it answers 500, and the endpoint 424)`
        : `${count(424)} of ${total} requests failed inside the model (424)`,
      evidence: lines,
      fix: unencodable
        ? `In run(), ${unencodable[2]} before returning: the server encodes what run() returns with json.dumps.`
        : "The log lines above show the model's exception; fix the input or the model code.",
      actions: [],
    });
  }
  return out;
}

/** Every diagnosis the evidence supports, most fundamental first. */
export function diagnoseDeployment(evidence: DeploymentEvidence): Diagnosis[] {
  const found: Diagnosis[] = [...packageFindings(evidence), ...environmentFailure(evidence)];
  const load = loadFailure(evidence);
  found.push(...load, ...outOfMemory(evidence), ...slowLoad(evidence));
  const codes = new Set(found.map((d) => d.code));
  found.push(...crashes(evidence, codes), ...probes(evidence), ...stalls(evidence), ...requests(evidence));
  if (found.length === 0 && evidence.state === "Failed" && evidence.error) {
    found.push({
      code: evidence.error.code,
      cause: evidence.error.summary,
      evidence: evidence.error.details.slice(0, 8),
      fix: evidence.error.fix ?? "",
      actions: [],
    });
  }
  return found
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (RANK[a.d.code] ?? 11) - (RANK[b.d.code] ?? 11) || a.i - b.i)
    .map(({ d }) => d);
}

/** Diagnoses before anything starts: the package, the environment, the script's entry points, memory. */
export function diagnosePreflight(p: PreflightEvidence): Diagnosis[] {
  const evidence: DeploymentEvidence = {
    ...blankEvidence(p.spec, p.memoryLimitBytes, "Preflight"),
    error: p.environmentError,
    findings: p.findings,
  };
  const found = [...packageFindings(evidence), ...environmentFailure(evidence)];
  if (p.script) {
    const missing = ["init", "run"].filter(
      (fn) => !new RegExp(`^def ${fn}\\s*\\(`, "m").test(p.script!.text),
    );
    if (missing.length > 0)
      found.push({
        code: "UserScriptFunctionNotFound",
        cause: `${p.script.name} does not define ${missing.map((m) => `${m}()`).join(" or ")} at its top level`,
        evidence: [
          `${p.script.name}: no line starting with ${missing.map((m) => `'def ${m}('`).join(" or ")}`,
        ],
        fix: `Define both init() and run(raw_data) at the top level of ${p.script.name}, as Azure's inference server calls them.`,
        actions: [],
      });
  }
  if (p.modelBytes > p.memoryLimitBytes) {
    const type = smallestTypeFor(p.modelBytes * 3);
    found.push({
      code: "OutOfMemory",
      cause: `The model's files alone take ${mib(p.modelBytes)}, more than the ${mib(p.memoryLimitBytes)} an instance may use`,
      evidence: [`model files: ${p.modelBytes} bytes; memory limit ${p.memoryLimitBytes} bytes`],
      fix: type
        ? `Set instance_type: ${type} (room for three times the files), or shrink the model.`
        : "Shrink the model.",
      actions: type ? [{ kind: "yaml", key: "instance_type", value: type }] : [],
    });
  }
  return found
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (RANK[a.d.code] ?? 11) - (RANK[b.d.code] ?? 11) || a.i - b.i)
    .map(({ d }) => d);
}
