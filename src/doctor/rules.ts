/**
 * From evidence to diagnoses, as a table of rules. Each rule looks for one cause (its code) and, when
 * the evidence holds it, names it with the lines that show it and the change that removes it; its
 * rank says what to fix first (a model that cannot be read before an environment, before a load,
 * before load-time limits, before what requests met). Rules read typed evidence (findings, events,
 * request outcomes and the failures hosts named), never prose; a cause without evidence is not
 * reported. The rules themselves are in rules/, by phase.
 */
import { blankEvidence, type DeploymentEvidence, type PreflightEvidence } from "../engine/index.js";
import type { Code } from "../shared/index.js";
import { environmentFailure } from "./rules/environment.js";
import { crashes, probes, stalls } from "./rules/instances.js";
import { mib } from "./rules/lines.js";
import {
  codeFolderMissing,
  directReferenceUnfetched,
  type LoadRule,
  loadReport,
  missingModule,
  numpyAbi,
  otherLoadFailure,
  pickleDrift,
  scriptFunctionNotFound,
  scriptImportError,
  scriptInitFailed,
  scriptRunInvalid,
} from "./rules/load.js";
import { packageFindings } from "./rules/package.js";
import { modelErrors, overload, timeouts, unserializable } from "./rules/requests.js";
import { outOfMemory, slowLoad, smallestTypeFor } from "./rules/resources.js";
import type { Diagnosis } from "./types.js";

interface Rule {
  /** The code it names; "findings" for the rules that name the codes of the findings they read. */
  code: Code | "findings";
  /** What to fix first: lower is more fundamental. */
  rank: number;
  /** Whether it applies, given the codes the rules before it named. */
  when(evidence: DeploymentEvidence, found: ReadonlySet<Code>): boolean;
  diagnose(evidence: DeploymentEvidence): Diagnosis[];
}

/** Ranks of the codes that findings and environment errors carry (the package before its environment). */
const FINDING_RANK: Partial<Record<Code, number>> = {
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
  PythonVersionMismatch: 3,
  InstalledVersionsDiffer: 3,
  PickleVersionDrift: 4,
  ModuleNotShipped: 4,
};
/** Findings of other codes come after every rule of the table. */
const FINDINGS_RANK = 11;

/** The codes a load failure is named by: one failure, one of them. */
const LOAD_CODES: readonly Code[] = [
  "RequirementDirectReference",
  "UserScriptImportError",
  "UserScriptFunctionNotFound",
  "UserScriptRunInvalid",
  "UserScriptInitFailed",
  "NumpyAbiConflict",
  "PickleVersionDrift",
  "PackageMissing",
  "ModuleNotShipped",
  "ModelLoadFailed",
];

/** A load rule as a table entry: it applies when the host reported a load failure no earlier rule named. */
function loadRule(code: Code, rank: number, rule: LoadRule): Rule {
  return {
    code,
    rank,
    when: (evidence, found) => !LOAD_CODES.some((c) => found.has(c)) && loadReport(evidence) !== undefined,
    diagnose: (evidence) => {
      const load = loadReport(evidence);
      const diagnosis = load && rule(evidence, load);
      return diagnosis ? [diagnosis] : [];
    },
  };
}

const always = () => true;

/** Every rule, in the order it is tried. */
const RULES: readonly Rule[] = [
  { code: "findings", rank: FINDINGS_RANK, when: always, diagnose: packageFindings },
  { code: "findings", rank: FINDINGS_RANK, when: always, diagnose: environmentFailure },
  loadRule("RequirementDirectReference", 3, directReferenceUnfetched),
  loadRule("UserScriptImportError", 4, scriptImportError),
  loadRule("UserScriptFunctionNotFound", 4, scriptFunctionNotFound),
  loadRule("UserScriptRunInvalid", 4, scriptRunInvalid),
  loadRule("UserScriptInitFailed", 4, scriptInitFailed),
  loadRule("NumpyAbiConflict", 2, numpyAbi),
  loadRule("PickleVersionDrift", 4, pickleDrift),
  loadRule("ModuleNotShipped", 4, codeFolderMissing),
  loadRule("PackageMissing", 3, missingModule),
  loadRule("ModelLoadFailed", 4, otherLoadFailure),
  { code: "OutOfMemory", rank: 5, when: always, diagnose: outOfMemory },
  { code: "ResourceNotReady", rank: 6, when: always, diagnose: slowLoad },
  // A crash that an out-of-memory kill or a failed load explains is not a cause of its own.
  {
    code: "CrashLoop",
    rank: 7,
    when: (_e, found) => !found.has("OutOfMemory") && !found.has("ModelLoadFailed"),
    diagnose: crashes,
  },
  { code: "LivenessProbeFailed", rank: 8, when: always, diagnose: probes },
  { code: "InstanceUnresponsive", rank: 8, when: always, diagnose: stalls },
  { code: "RequestTimeout", rank: 9, when: always, diagnose: timeouts },
  { code: "TooManyRequests", rank: 9, when: always, diagnose: overload },
  { code: "UnserializableOutput", rank: 10, when: always, diagnose: unserializable },
  { code: "ModelError", rank: 10, when: always, diagnose: modelErrors },
];

/** Runs `rules` in order; the diagnoses most fundamental first (the table's order among equals). */
function runRules(rules: readonly Rule[], evidence: DeploymentEvidence): Diagnosis[] {
  const found: { d: Diagnosis; rank: number }[] = [];
  const codes = new Set<Code>();
  for (const rule of rules) {
    if (!rule.when(evidence, codes)) continue;
    for (const d of rule.diagnose(evidence)) {
      codes.add(d.code);
      found.push({ d, rank: rule.code === "findings" ? (FINDING_RANK[d.code] ?? rule.rank) : rule.rank });
    }
  }
  return found
    .map((x, i) => ({ ...x, i }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map(({ d }) => d);
}

/** Every diagnosis the evidence supports, most fundamental first. */
export function diagnoseDeployment(evidence: DeploymentEvidence): Diagnosis[] {
  const found = runRules(RULES, evidence);
  if (found.length === 0 && evidence.state === "Failed" && evidence.error)
    return [
      {
        code: evidence.error.code,
        cause: evidence.error.summary,
        evidence: evidence.error.details.slice(0, 8),
        fix: evidence.error.fix ?? "",
        actions: [],
      },
    ];
  return found;
}

/** What a scoring script lacks of Azure's entry points (init and run at its top level). */
function missingEntryPoints(p: PreflightEvidence): Diagnosis[] {
  if (!p.script) return [];
  const missing = ["init", "run"].filter((fn) => !new RegExp(`^def ${fn}\\s*\\(`, "m").test(p.script!.text));
  if (missing.length === 0) return [];
  return [
    {
      code: "UserScriptFunctionNotFound",
      cause: `${p.script.name} does not define ${missing.map((m) => `${m}()`).join(" or ")} at its top level`,
      evidence: [`${p.script.name}: no line starting with ${missing.map((m) => `'def ${m}('`).join(" or ")}`],
      fix: `Define both init() and run(raw_data) at the top level of ${p.script.name}, as Azure's inference server calls them.`,
      actions: [],
    },
  ];
}

/** Model files larger than an instance's memory. */
function filesOverMemory(p: PreflightEvidence): Diagnosis[] {
  if (p.modelBytes <= p.memoryLimitBytes) return [];
  const type = smallestTypeFor(p.modelBytes * 3);
  return [
    {
      code: "OutOfMemory",
      cause: `The model's files alone take ${mib(p.modelBytes)}, more than the ${mib(p.memoryLimitBytes)} an instance may use`,
      evidence: [`model files: ${p.modelBytes} bytes; memory limit ${p.memoryLimitBytes} bytes`],
      fix: type
        ? `Set instance_type: ${type} (room for three times the files), or shrink the model.`
        : "Shrink the model.",
      actions: type ? [{ kind: "yaml", key: "instance_type", value: type }] : [],
    },
  ];
}

/** Diagnoses before anything starts: the package, the environment, the script's entry points, memory. */
export function diagnosePreflight(p: PreflightEvidence): Diagnosis[] {
  const evidence: DeploymentEvidence = {
    ...blankEvidence(p.spec, p.memoryLimitBytes, "Preflight"),
    error: p.environmentError,
    findings: p.findings,
  };
  const preflightRules: Rule[] = [
    ...RULES.filter((r) => r.code === "findings"),
    { code: "UserScriptFunctionNotFound", rank: 4, when: always, diagnose: () => missingEntryPoints(p) },
    { code: "OutOfMemory", rank: 5, when: always, diagnose: () => filesOverMemory(p) },
  ];
  return runRules(preflightRules, evidence);
}
