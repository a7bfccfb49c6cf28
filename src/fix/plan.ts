/**
 * A diagnosis's actions as changes to the deployment's own files: YAML keys in the deployment file;
 * pins (and drops) in the model folder's environment files, every one that lists the package (so
 * conda.yaml, requirements.txt and python_env.yaml keep agreeing), or in a scoring script's conda
 * file. What a file cannot hold (a command outside pier, code to change) stays a step for a person.
 * Nothing outside the deployment file, its model folder and its conda file is ever planned.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parse } from "yaml";
import type { FixAction } from "../shared/index.js";
import { listsPackage, pinInFile, setYamlKey } from "./edits.js";

export interface FileChange {
  path: string;
  before: string;
  after: string;
}

export interface FixPlan {
  changes: FileChange[];
  /** What pier does not do itself: commands outside pier, code to edit. */
  manual: string[];
  /** Whether a change touches the model's environment (so the deployment gets a new environment, and a new model version). */
  environment: boolean;
}

/** Where the deployment's own files are. */
export interface FixScope {
  deploymentFile: string;
}

const ENV_FILES = /^(conda\.ya?ml|requirements\.txt|python_env\.ya?ml)$/i;

/** The deployment's local model folder and scoring script conda file, from its YAML. */
function ownFolders(deploymentFile: string): { modelDir?: string; condaFile?: string } {
  const spec = (parse(readFileSync(deploymentFile, "utf8")) ?? {}) as {
    model?: string | { path?: string };
    environment?: { conda_file?: string } | string;
  };
  const base = dirname(deploymentFile);
  const model = typeof spec.model === "string" ? spec.model : spec.model?.path;
  const local = model && !/^(models:|runs:|azureml:)/.test(model) ? resolve(base, model) : undefined;
  const conda = typeof spec.environment === "object" ? spec.environment.conda_file : undefined;
  return {
    ...(local && existsSync(local) ? { modelDir: local } : {}),
    ...(conda ? { condaFile: resolve(base, conda) } : {}),
  };
}

/** The files a pin for `action.file` goes into: that file and its siblings that list the package. */
function pinTargets(
  action: Extract<FixAction, { kind: "pin" }>,
  scope: FixScope,
  read: (p: string) => string,
): string[] {
  const { modelDir, condaFile } = ownFolders(scope.deploymentFile);
  const base = dirname(scope.deploymentFile);
  const named = [
    condaFile,
    resolve(base, action.file),
    modelDir ? resolve(modelDir, action.file) : undefined,
  ].find((p) => p && existsSync(p) && (p === condaFile || p.endsWith(action.file)));
  if (!named) return [];
  const folder = dirname(named);
  const inside = (p: string) =>
    p === condaFile || (modelDir !== undefined && !relative(modelDir, p).startsWith(".."));
  if (!inside(named)) return [];
  const siblings =
    named === condaFile
      ? []
      : readdirSync(folder)
          .filter((f) => ENV_FILES.test(f) && join(folder, f) !== named)
          .map((f) => join(folder, f))
          .filter((p) => listsPackage(p, read(p), action.requirement));
  return [named, ...siblings];
}

/**
 * Why `path` is not the deployment's own file to edit, if it is not: a file with another hard link, or
 * one whose real place (links followed) is outside the model folder and the deployment's folder, is
 * another file too, and writing it would change what lies outside them.
 */
function notOwnFile(path: string, scope: FixScope): string | undefined {
  const stats = lstatSync(path);
  const { modelDir } = ownFolders(scope.deploymentFile);
  const real = realpathSync(path);
  const within = (dir: string | undefined) => {
    if (dir === undefined) return false;
    const rel = relative(realpathSync(dir), real);
    return rel === "" || !(rel.startsWith("..") || isAbsolute(rel));
  };
  if (stats.isFile() && stats.nlink > 1)
    return `edit ${path} by hand: it has ${stats.nlink} hard links, so writing it would change the same file elsewhere (pier edits only files of their own)`;
  if (!within(modelDir) && !within(dirname(scope.deploymentFile)))
    return `edit ${path} by hand: it leads to ${real}, outside the model folder and the deployment's folder`;
  return undefined;
}

/** The plan for a diagnosis's actions. Reads files; writes nothing. */
export function planFix(actions: readonly FixAction[], scope: FixScope): FixPlan {
  const texts = new Map<string, string>();
  const originals = new Map<string, string>();
  const read = (path: string) => {
    if (!texts.has(path)) {
      const text = readFileSync(path, "utf8");
      texts.set(path, text);
      originals.set(path, text);
    }
    return texts.get(path)!;
  };
  const manual: string[] = [];
  let environment = false;
  for (const action of actions) {
    if (action.kind === "yaml") {
      texts.set(scope.deploymentFile, setYamlKey(read(scope.deploymentFile), action.key, action.value));
    } else if (action.kind === "pin" || action.kind === "unpin") {
      const requirement = action.kind === "pin" ? action.requirement : action.package;
      const targets = pinTargets({ kind: "pin", file: action.file, requirement }, scope, read);
      if (targets.length === 0) {
        manual.push(
          `${action.kind === "pin" ? `pin ${requirement}` : `drop ${requirement}`} in ${action.file}: pier found no such file in the deployment's model folder or conda file (a registered model's files change only by registering a new version)`,
        );
        continue;
      }
      for (const target of targets) {
        const changed = pinInFile(target, read(target), requirement, action.kind === "unpin");
        if (changed !== undefined) {
          texts.set(target, changed);
          environment = true;
        }
      }
    } else if (/^pier env build\b/.test(action.command)) {
      // The update builds the environment its pins need (deployment create and update do).
    } else manual.push(`run ${action.command}`);
  }
  const changes = [...texts]
    .filter(([path, text]) => originals.get(path) !== text)
    .map(([path, after]) => ({ path, before: originals.get(path)!, after }))
    .filter((change) => {
      const refusal = notOwnFile(change.path, scope);
      if (refusal) manual.push(refusal);
      return refusal === undefined;
    });
  return { changes, manual, environment };
}
