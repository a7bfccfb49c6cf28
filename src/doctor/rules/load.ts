/**
 * The model or the scoring script failed while loading. The host's report (a LoadFailed event) says
 * which kind of failure it was as data: the exception's type, the module an import could not find,
 * and its own classification (python/pier_host.py, classify: numpy ABI, unpickling). One failure has
 * one cause: these rules are tried in the table's order and the first that matches names it.
 */
import { type DeploymentEvidence, eventsOf, type ModelLayout } from "../../engine/index.js";
import { distributionOf } from "../../env/index.js";
import type { HostLoadError } from "../../runtime/index.js";
import type { Diagnosis } from "../types.js";
import { eventLine, logEvidence } from "./lines.js";

/** The last load failure the host reported, with the lines that show it. */
export function loadReport(
  evidence: DeploymentEvidence,
): { reported: HostLoadError; base: string[]; script: string | undefined; userFrames: string[] } | undefined {
  const last = eventsOf(evidence.events, "LoadFailed").pop();
  const reported = last?.data.error;
  if (!last || !reported) return undefined;
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
  return { reported, base: [eventLine(last), ...userFrames, ...logLines], script, userFrames };
}

/** The pip package that provides a module (cv2 → opencv-python, azureml.core → azureml-core). */
function pipNameOf(module: string): string {
  const [top, second] = module.split(".");
  if (top === "azureml" && second) return `azureml-${second.replaceAll("_", "-")}`;
  return distributionOf(top!) ?? top!.replaceAll("_", "-");
}

const text = (r: HostLoadError) => `${r.type}: ${r.message}`;

/** A load rule: when the report shows its kind of failure, its diagnosis. */
export type LoadRule = (
  evidence: DeploymentEvidence,
  load: NonNullable<ReturnType<typeof loadReport>>,
) => Diagnosis | undefined;

export const scriptImportError: LoadRule = (_e, { reported, base, script }) =>
  reported.type !== "UserScriptImportError"
    ? undefined
    : {
        code: "UserScriptImportError",
        cause: `${script} fails to import: ${reported.message}`,
        evidence: base,
        fix: reported.module
          ? `Add ${pipNameOf(reported.module)} (the package that provides '${reported.module}') to the pip list of the environment's conda file, pinned to the version ${script} was written for (${pipNameOf(reported.module)}==VERSION); pier builds it before the instances start. Or fix the import in ${script}.`
          : `Fix the import error at the frame shown in ${script}.`,
        actions: [],
      };

export const scriptFunctionNotFound: LoadRule = (_e, { reported, base, script }) =>
  reported.type !== "UserScriptFunctionNotFound"
    ? undefined
    : {
        code: "UserScriptFunctionNotFound",
        cause: reported.message,
        evidence: base,
        fix: `Define both init() and run(raw_data) at the top level of ${script}, as Azure's inference server calls them.`,
        actions: [],
      };

export const scriptRunInvalid: LoadRule = (_e, { reported, base, script }) =>
  reported.type !== "UserScriptRunInvalid"
    ? undefined
    : {
        code: "UserScriptRunInvalid",
        cause: `${script}: ${reported.message} Azure's inference server refuses to load such a script.`,
        evidence: base,
        fix: `Declare run() with one named parameter for the input (run(data), or run(data, request_headers) for the headers; with @input_schema, one parameter per decorated input), without *args, **kwargs or positional-only parameters, and not both @rawhttp and @input_schema.`,
        actions: [],
      };

/** The files under AZUREML_MODEL_DIR, as a script sees them (a folder model keeps its name there). */
const modelDirFiles = (model: ModelLayout) =>
  model.files.map((f) => (model.folder ? `${model.folder}/${f}` : f));

/**
 * init() looked for a file under AZUREML_MODEL_DIR that is not there: what is there, and the path of
 * the file it most likely meant (the same name elsewhere, most often inside the folder that keeps its name).
 */
function missingModelFile(
  evidence: DeploymentEvidence,
  message: string,
): { lines: string[]; fix: string } | undefined {
  const missing = /FileNotFoundError: \[Errno 2\] No such file or directory: '([^']+)'/.exec(message)?.[1];
  const model = evidence.model;
  const at = missing?.search(/\/azureml-models\/[^/]+\/[^/]+\//) ?? -1;
  if (!missing || !model || at < 0) return undefined;
  const relative = missing.slice(at).split("/").slice(4).join("/");
  const present = modelDirFiles(model);
  const name = relative.split("/").pop()!;
  const meant = present.filter((f) => f.split("/").pop() === name);
  const shown = present.slice(0, 12);
  return {
    lines: [
      `init() opened AZUREML_MODEL_DIR/${relative}; AZUREML_MODEL_DIR holds ${present.length} file(s) of ${model.uri}: ${shown.join(", ")}${present.length > shown.length ? ", …" : ""}`,
      ...(model.folder
        ? [`the model was registered from a folder, which keeps its name there: ${model.folder}/`]
        : []),
    ],
    fix:
      meant.length > 0
        ? `Open the file where it is: os.path.join(os.getenv("AZUREML_MODEL_DIR"), ${meant[0]!
            .split("/")
            .map((p) => JSON.stringify(p))
            .join(", ")}) (${meant[0]} is there; ${relative} is not).`
        : `${relative} is not in the model: register the model with that file (pier model register … or the deployment's model.path), or open one of the files listed.`,
  };
}

/** An allocation refused outright is the memory rule's to name (OutOfMemory), not the load's. */
const refusedAllocation = (r: HostLoadError) =>
  /Unable to allocate [\d.]+ (B|KiB|MiB|GiB|TiB)\b/.test(r.message);

export const scriptInitFailed: LoadRule = (evidence, { reported, base, script, userFrames }) => {
  if (reported.type !== "UserScriptInitFailed" || refusedAllocation(reported)) return undefined;
  const file = missingModelFile(evidence, reported.message);
  return {
    code: "UserScriptInitFailed",
    cause: reported.message,
    evidence: [...base, ...(file?.lines ?? [])],
    fix:
      file?.fix ??
      `Fix init() in ${script} at the frame shown${userFrames[0] ? ` (${userFrames[userFrames.length - 1]!.replace(/^traceback: /, "")})` : ""}; the deployment stays Failed until init() returns.`,
    actions: [],
  };
};

const normalized = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * The import that failed is of a package the environment asks for by a VCS or URL reference that
 * could not be fetched: that reference is the cause, not a package missing from the list.
 */
export const directReferenceUnfetched: LoadRule = (evidence, { reported, base }) => {
  const module = reported.module;
  if (!module) return undefined;
  const wanted = new Set([normalized(module.split(".")[0]!), normalized(pipNameOf(module))]);
  const reference = eventsOf(evidence.events, "EnvironmentWarning").find(
    (e) =>
      e.data.finding.code === "RequirementDirectReference" &&
      e.data.finding.subject?.package !== undefined &&
      wanted.has(normalized(e.data.finding.subject.package)),
  );
  if (!reference) return undefined;
  const finding = reference.data.finding;
  const location = finding.evidence?.value ?? finding.subject?.package;
  // What pip said of it, if a build tried (the build's lines are in the log).
  const fetchFailed = evidence.logs
    .flatMap((l) => l.lines)
    .filter((l) =>
      /clone|Could not|unable to access|Failed to (fetch|connect)|No matching distribution/i.test(l),
    )
    .filter((l) => location !== undefined && l.includes(location))
    .slice(0, 3);
  return {
    code: "RequirementDirectReference",
    cause: `'${module}' could not be imported: ${finding.subject!.package} is asked for as ${location}, a reference pip must fetch from version control or a URL, and it is not in the environment (${text(reported)})`,
    evidence: [...base, eventLine(reference), ...fetchFailed],
    fix: `Pin a released version (${finding.subject!.package}==<version>) in place of ${location}, or give pier a wheel of it (PIER_PIP_FIND_LINKS=<folder with the .whl>) and build the environment again (\`pier env build --conda-file …\`); Azure's image build needs the same access to ${location}.`,
    actions: [],
  };
};

/**
 * The MLmodel says the project's own modules were logged under a folder (python_function `code`)
 * that the package does not have: that folder is what is missing, not a package to pin.
 */
export const codeFolderMissing: LoadRule = (evidence, { reported, base }) => {
  const module = reported.module;
  const model = evidence.model;
  if (!module || !model?.codeFolder) return undefined;
  const folder = model.codeFolder.replace(/\/+$/, "");
  const inside = model.files.filter((f) => f.startsWith(`${folder}/`));
  const top = module.split(".")[0]!;
  const shipped = inside.some((f) => f === `${folder}/${top}.py` || f.startsWith(`${folder}/${top}/`));
  if (shipped) return undefined;
  return {
    code: "ModuleNotShipped",
    cause: `Loading the model imports '${module}', which its MLmodel says was logged under ${folder}/ (python_function code: ${model.codeFolder}); ${inside.length === 0 ? `the package has no ${folder}/ folder` : `${folder}/ holds ${inside.join(", ")} but not ${top}`}: ${text(reported)}`,
    evidence: [
      ...base,
      `MLmodel: flavors.python_function.code: ${model.codeFolder}`,
      `${model.uri} has ${model.files.length} file(s): ${model.files.slice(0, 12).join(", ")}${model.files.length > 12 ? ", …" : ""}`,
    ],
    fix: `Copy the folder that holds ${top} into the model as ${folder}/ (or log the model again with code_paths=["<path to ${top}>"], which MLflow copies there), then register the folder again; it is the project's own code, not a package from PyPI.`,
    actions: [],
  };
};

export const numpyAbi: LoadRule = (_e, { reported, base }) =>
  reported.cause !== "numpy-abi"
    ? undefined
    : {
        code: "NumpyAbiConflict",
        cause: `A compiled package was built for another numpy major version: ${reported.message}`,
        evidence: base,
        fix: "Pin numpy<2 with packages built for numpy 1 (e.g. numpy==1.26.4), or upgrade the package to a release built for numpy 2.",
        actions: [],
      };

/** The pickle names a class this scikit-learn does not have, and registration saw the versions differ. */
export const pickleDrift: LoadRule = (evidence, { reported, base }) => {
  const drift = eventsOf(evidence.events, "EnvironmentWarning").find(
    (e) => e.data.finding.code === "PickleVersionDrift",
  );
  if (!drift || (reported.cause !== "unpickling" && reported.cause !== "stale-object")) return undefined;
  const finding = drift.data.finding;
  const saved = finding.subject?.version;
  return {
    code: "PickleVersionDrift",
    cause: `The pickle was made by another scikit-learn and cannot be loaded here: ${text(reported)}`,
    evidence: [...base, eventLine(drift)],
    fix: `Serve it with the scikit-learn that made it${saved ? ` (${saved})` : ""}: pin scikit-learn==${saved ?? "<version>"} in the model's requirements and build that environment (\`pier env build --model …\`, with a package index or PIER_PIP_FIND_LINKS), or retrain and log the model with the scikit-learn installed here.`,
    actions: finding.actions ?? [],
  };
};

/** An import the model needs found nothing: a package to install, or the project's own code left out. */
export const missingModule: LoadRule = (_e, { reported, base }) => {
  const module = reported.module;
  if (!module) return undefined;
  const top = module.split(".")[0]!;
  const distribution = distributionOf(top);
  return distribution
    ? {
        code: "PackageMissing",
        cause: `Loading the model imports '${module}', from ${distribution}, which the interpreter does not have: ${text(reported)}`,
        evidence: base,
        fix: `Pin ${distribution}==<the version the model was trained with> in the model's requirements; pier builds that environment before the instances start (\`pier env build --model …\` does it ahead of time).`,
        actions: [],
      }
    : {
        code: "ModuleNotShipped",
        cause: `Loading the model imports '${module}', which neither the interpreter nor the model package has: the project's own code was left out of the package (${text(reported)})`,
        evidence: base,
        fix: `Log the model with code_paths=["${module.replaceAll(".", "/")}.py"] (MLflow copies it under code/ and records MLmodel's \`code\` key; pier puts it on sys.path for every flavor). If ${top} is a package from PyPI, pin it in the model's requirements instead.`,
        actions: [],
      };
};

/** Any other load failure: the exception and its traceback. */
export const otherLoadFailure: LoadRule = (_e, { reported, base }) =>
  refusedAllocation(reported)
    ? undefined
    : {
        code: "ModelLoadFailed",
        cause: `The model failed to load: ${text(reported)}`,
        evidence: base,
        fix: "Fix the error at the last frame of the traceback; `pier model validate` checks the package itself.",
        actions: [],
      };
