/**
 * A deployment checked before anything starts (`pier doctor --model … --deployment-file …`): the
 * model package (a folder, or a registered version's findings), the environment through the same
 * preflight `deployment create` runs (without building), a scoring script's entry points, and memory.
 * Nothing is registered, built or started.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type DeploymentSpec, modelPathOf, resolveFromSpec } from "../config/index.js";
import {
  type EnvironmentTarget,
  type Fidelity,
  fileInFolder,
  folderFacts,
  type ModelFacts,
  preflightEnvironment,
  readCondaFile,
  validateModelDir,
} from "../env/index.js";
import { checkFolderFiles, interfaceLines, listFolderFiles, modelInterface } from "../model/index.js";
import { type ModelRef, parseModelUri, type Registry } from "../registry/index.js";
import { type Finding, type PierErrorJson, toPierError, userError } from "../shared/index.js";
import type { PreflightEvidence } from "./evidence.js";
import { fidelityOf, memoryLimitBytes } from "./provisioning.js";

export interface PreflightContext {
  home: string;
  /** `--fidelity`, over the YAML's PIER_FIDELITY. */
  fidelity?: string;
  /** Runs `fn` with the registry open (only a models:/ URI needs it). */
  withRegistry<T>(fn: (registry: Registry) => T): T;
}

interface ModelUnderCheck {
  facts?: ModelFacts;
  file: (path: string) => string | undefined;
  findings: Finding[];
  bytes: number;
  checked: string;
}

function registeredModel(
  ref: Extract<ModelRef, { kind: "registry" }>,
  context: PreflightContext,
): ModelUnderCheck {
  const { version, blobs } = context.withRegistry((registry) => {
    const resolved = registry.resolve(ref);
    return {
      version: resolved,
      blobs: new Map(resolved.artifacts.map((a) => [a.path, registry.store.blobPath(a.sha256)])),
    };
  });
  return {
    facts: version,
    file: (path) => blobs.get(path),
    findings: version.findings,
    bytes: version.sizeBytes,
    checked: `models:/${version.name}/${version.version}: ${version.artifacts.length} files, findings from its registration`,
  };
}

/** A scoring script's model is any folder (Azure's custom_model). */
function customFolder(folder: string): ModelUnderCheck {
  if (!existsSync(folder))
    throw userError(
      "ModelSourceNotFound",
      `The model folder ${folder} does not exist`,
      "Fix model.path in the deployment file.",
    );
  const files = listFolderFiles(folder);
  const artifacts = files.map((path) => ({ path, size: statSync(join(folder, path)).size }));
  return {
    facts: {
      name: basename(folder),
      version: 0,
      flavors: {},
      mlmodel: { flavors: {} },
      envFiles: {},
      artifacts,
    },
    file: fileInFolder(folder),
    findings: checkFolderFiles(folder, files, "model"),
    bytes: artifacts.reduce((sum, a) => sum + a.size, 0),
    checked: `model folder ${folder}: ${files.length} files (a scoring script's model)`,
  };
}

async function mlflowFolder(folder: string, fidelity: Fidelity): Promise<ModelUnderCheck> {
  const validation = await validateModelDir(folder, fidelity);
  const facts = validation.mlmodel ? await folderFacts(folder, validation) : undefined;
  return {
    ...(facts ? { facts } : {}),
    file: fileInFolder(folder),
    findings: validation.findings,
    bytes: facts ? facts.artifacts.reduce((sum, a) => sum + a.size, 0) : 0,
    checked: `MLflow model folder ${folder}: ${validation.findings.length} finding(s)`,
  };
}

/** Everything a deployment of `spec` would meet before its instances start, gathered without side effects. */
export async function preflightDeployment(
  spec: DeploymentSpec,
  specDir: string,
  context: PreflightContext,
): Promise<PreflightEvidence> {
  const modelText = modelPathOf(spec);
  if (!modelText)
    throw userError(
      "MissingArgument",
      "Nothing to check: give --model DIR|URI or a deployment file with a model",
      "pier doctor --model ./model",
    );
  const ref = parseModelUri(modelText);
  const script = spec.code_configuration;
  const fidelity = fidelityOf(spec, context.fidelity);
  const model =
    ref.kind === "registry"
      ? registeredModel(ref, context)
      : script
        ? customFolder(resolveFromSpec(ref.path, specDir))
        : await mlflowFolder(resolveFromSpec(ref.path, specDir), fidelity);
  const checked = [model.checked];

  let scriptText: PreflightEvidence["script"];
  let conda: EnvironmentTarget["conda"];
  if (script) {
    const scriptPath = resolve(specDir, script.code, script.scoring_script);
    if (!existsSync(scriptPath))
      throw userError(
        "BadArgument",
        `code_configuration names ${scriptPath}, which does not exist`,
        "Fix code_configuration.code or scoring_script.",
      );
    scriptText = { name: script.scoring_script, text: readFileSync(scriptPath, "utf8") };
    const codeDir = resolveFromSpec(script.code, specDir);
    model.findings.push(...checkFolderFiles(codeDir, listFolderFiles(codeDir), "code"));
    const env = spec.environment;
    conda = typeof env === "object" && env.conda_file ? readCondaFile(specDir, env.conda_file) : null;
    checked.push(`scoring script ${scriptPath}${conda ? " and its conda file" : ""}`);
  }

  let environmentError: PierErrorJson | null = null;
  let environmentFindings: Finding[] = [];
  // The environment is checked even when the package has errors: a preflight names every cause at once.
  if (model.facts) {
    try {
      const result = await preflightEnvironment(
        { model: model.facts, ref: modelText, ...(conda !== undefined ? { conda } : {}) },
        {
          home: context.home,
          mode: "check",
          fidelity,
          preferredPython: spec.environment_variables?.PIER_PYTHON,
          artifactPath: model.file,
        },
      );
      environmentFindings = result.findings;
      checked.push(`environment: ${script ? "scoring script in " : ""}${result.description}`);
    } catch (error) {
      environmentError = toPierError(error).toJSON();
      checked.push(`environment: ${environmentError.code}`);
    }
  }
  if (model.facts && !script) {
    const readFile = (path: string) => {
      const file = model.file(path);
      return file ? readFileSync(file) : undefined;
    };
    const { flavors, mlmodel } = model.facts;
    const { interface: iface } = modelInterface({ flavors, signature: mlmodel.signature, readFile });
    checked.push(...interfaceLines(iface, model.facts.name));
  }
  const memory = memoryLimitBytes(spec);
  checked.push(
    `memory: model files ${(model.bytes / 2 ** 20).toFixed(1)} MiB within ${spec.instance_type}'s ${(memory / 2 ** 20).toFixed(0)} MiB limit`,
  );
  return {
    target: modelText,
    spec,
    memoryLimitBytes: memory,
    findings: model.findings,
    environmentFindings,
    environmentError,
    modelBytes: model.bytes,
    ...(scriptText ? { script: scriptText } : {}),
    checked,
  };
}
