/** The model package's own faults: what its checks found when it was registered. */
import { dirname } from "node:path";
import { modelPathOf } from "../../config/index.js";
import type { DeploymentEvidence } from "../../engine/index.js";
import type { Finding, FixAction, PierErrorJson } from "../../shared/index.js";
import type { Diagnosis } from "../types.js";
import { findingEvidence } from "./lines.js";

/** The findings of a model package that failed its checks when a deployment registered it. */
export const registrationFindings = (error: PierErrorJson | null): Finding[] =>
  error?.code === "ModelValidationFailed" ? (error.data?.findings ?? []) : [];

/** Packages that do not support the pinned Python: one cause per file, however many packages. */
export function unresolvableDiagnoses(findings: readonly Finding[]): Diagnosis[] {
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
      evidence: group.map(findingEvidence),
      fix: pin
        ? `In ${file}, pin ${pin.requirement.replace("==", "=")} (the oldest Python every pinned package here supports), or pin releases that support Python ${python}.`
        : `The pins in ${file} need Pythons that do not overlap; pin releases that support Python ${python}.`,
      actions,
    };
  });
}

/** Validation errors of the model package, from registration or a failed registration. */
export function packageFindings(evidence: DeploymentEvidence): Diagnosis[] {
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
      return { code: f.code, cause: f.message, evidence: [findingEvidence(f)], fix: f.fix, actions };
    });
  return [...unresolvable, ...others];
}
