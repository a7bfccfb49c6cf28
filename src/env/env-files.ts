/**
 * Reads the environment an MLflow model declares: conda.yaml (conda deps + pip list),
 * python_env.yaml (python + build deps + `-r requirements.txt`) and requirements.txt.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  parseCondaSpec,
  parsePipRequirement,
  parseRequirementsTxt,
  type Requirement,
} from "./requirements.js";

export interface DeclaredEnvironment {
  file: string;
  /** The Python the file asks for (a spec such as "==3.8.*" or "==3.11.12"), if any. */
  python?: Requirement;
  packages: Requirement[];
  /** Problems reading the file itself. */
  problems: string[];
}

function readYaml(path: string): { value?: unknown; text: string; problem?: string } {
  const text = readFileSync(path, "utf8");
  try {
    return { value: parse(text), text };
  } catch (error) {
    return { text, problem: `is not valid YAML: ${(error as Error).message.split("\n")[0]}` };
  }
}

/** The 1-based line of a YAML list item or key holding `entry`, for evidence; 1 when not found. */
function lineOf(text: string, entry: string): number {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((line) => {
    const item = line
      .replace(/^\s*(-\s*)?/, "")
      .replace(/^python:\s*/, "")
      .trim();
    return item === entry || item === `'${entry}'` || item === `"${entry}"`;
  });
  return index + 1 || 1;
}

/** conda.yaml: `dependencies` holds conda specs and one `{pip: [...]}` entry. */
export function readCondaYaml(dir: string, file = "conda.yaml"): DeclaredEnvironment {
  return parseCondaYamlText(readFileSync(join(dir, file), "utf8"), file);
}

/** Parses conda.yaml text (named `file` in evidence). */
export function parseCondaYamlText(text: string, file: string): DeclaredEnvironment {
  const env: DeclaredEnvironment = { file, packages: [], problems: [] };
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    return { ...env, problems: [`is not valid YAML: ${(error as Error).message.split("\n")[0]}`] };
  }
  const dependencies = (value as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(dependencies)) return { ...env, problems: ["has no `dependencies` list"] };
  dependencies.forEach((entry, index) => {
    if (typeof entry === "string") {
      const spec = parseCondaSpec(entry, file, lineOf(text, entry));
      if (spec.name === "python") env.python = spec;
      else env.packages.push(spec);
    } else if (entry && typeof entry === "object" && Array.isArray((entry as { pip?: unknown }).pip)) {
      for (const pip of (entry as { pip: unknown[] }).pip) {
        if (typeof pip === "string" && !pip.startsWith("-"))
          env.packages.push(parsePipRequirement(pip, file, lineOf(text, pip)));
      }
    } else {
      env.problems.push(`dependency #${index + 1} is neither a conda spec nor a pip list`);
    }
  });
  return env;
}

/** python_env.yaml plus the requirements files it includes with `-r`. */
export function readPythonEnvYaml(dir: string, file = "python_env.yaml"): DeclaredEnvironment {
  const env: DeclaredEnvironment = { file, packages: [], problems: [] };
  const { value, text, problem } = readYaml(join(dir, file));
  if (problem) return { ...env, problems: [problem] };
  const doc = (value ?? {}) as { python?: unknown; dependencies?: unknown };
  if (doc.python !== undefined) {
    const version = String(doc.python);
    env.python = parseCondaSpec(`python=${version}`, file, lineOf(text, version));
  } else {
    env.problems.push("has no `python` key (MLflow's virtualenv manager needs one)");
  }
  if (Array.isArray(doc.dependencies)) {
    for (const dep of doc.dependencies) {
      const entry = String(dep);
      const include = /^-r\s+(.+)$/.exec(entry);
      if (include) {
        const included = readRequirementsTxt(dir, include[1]!.trim());
        env.packages.push(...included.packages);
        env.problems.push(...included.problems);
      } else if (!entry.startsWith("-")) {
        env.packages.push(parsePipRequirement(entry, file, lineOf(text, entry)));
      }
    }
  }
  return env;
}

export function readRequirementsTxt(dir: string, file = "requirements.txt"): DeclaredEnvironment {
  const path = join(dir, file);
  if (!existsSync(path)) return { file, packages: [], problems: [`includes ${file}, which does not exist`] };
  const parsed = parseRequirementsTxt(readFileSync(path, "utf8"), file);
  return { file, packages: parsed.requirements, problems: [] };
}
