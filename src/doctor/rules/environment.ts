/** The environment could not be prepared: a missing package, pins pip cannot meet, no interpreter. */
import type { DeploymentEvidence } from "../../engine/index.js";
import type { Code, Finding, FixAction, PierErrorJson } from "../../shared/index.js";
import type { Diagnosis } from "../types.js";
import { findingEvidence } from "./lines.js";
import { unresolvableDiagnoses } from "./package.js";

/** The actions an error's own findings carry (the first finding is its cause). */
const errorActions = (error: PierErrorJson): FixAction[] => error.data?.findings?.[0]?.actions ?? [];

export function environmentFailure(evidence: DeploymentEvidence): Diagnosis[] {
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
        ...(first ? [findingEvidence(first)] : []),
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
      evidence: [findingEvidence(f)],
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
