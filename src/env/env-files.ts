/**
 * Reads a declared environment completely: conda.yaml (conda deps and a pip list, whose `-r` lines are
 * followed), python_env.yaml (python, build deps, dependencies with `-r`), requirements.txt (with its
 * `-r` includes and `-c` constraints, followed wherever they lead). Every line is understood or
 * reported with its file and line; nothing is dropped.
 */
import { dirname, join, normalize } from "node:path";
import { parse, YAMLParseError } from "yaml";
import type { Code } from "../shared/index.js";
import { type PipOption, parseCondaSpec, parseRequirementsTxt, type Requirement } from "./requirements.js";

/** Reads a file of the environment by its path relative to the model (or project) folder; undefined if absent. */
export type FileSource = (relativePath: string) => string | undefined;

/** Something wrong with reading the files themselves, with where it is. */
export interface EnvFileProblem {
  code: Extract<Code, "EnvFileMalformed" | "EnvFileMissing">;
  file: string;
  line?: number;
  message: string;
}

export interface DeclaredEnvironment {
  file: string;
  /** The Python the file asks for (a spec such as "==3.8.*" or "==3.11.12"), if any. */
  python?: Requirement;
  packages: Requirement[];
  /** Pins from `-c` constraints files: they bound versions without adding packages. */
  constraints: Requirement[];
  /** pip options the files carry (index URLs, --pre, …): understood, not used by pier's builds. */
  options: PipOption[];
  problems: EnvFileProblem[];
}

const empty = (file: string): DeclaredEnvironment => ({
  file,
  packages: [],
  constraints: [],
  options: [],
  problems: [],
});

/** A YAML document, or the problem (with its line) that stops it from being one. */
function readYaml(text: string, file: string): { value?: unknown; problem?: EnvFileProblem } {
  try {
    return { value: parse(text) };
  } catch (error) {
    const line = error instanceof YAMLParseError ? error.linePos?.[0]?.line : undefined;
    return {
      problem: {
        code: "EnvFileMalformed",
        file,
        ...(line ? { line } : {}),
        message: `is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
      },
    };
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

/** A path written in `from` (relative to its folder), as the source names it. */
const beside = (from: string, path: string) => normalize(join(dirname(from), path)).replace(/^\.\//, "");

/**
 * Adds a requirements file to `env`, following its -r includes and -c constraints; `seen` stops a
 * file that includes itself.
 */
function addRequirementsFile(
  env: DeclaredEnvironment,
  file: string,
  source: FileSource,
  from: { file: string; line: number } | undefined,
  seen: Set<string>,
  asConstraints = false,
): void {
  if (seen.has(file)) return;
  seen.add(file);
  const text = source(file);
  if (text === undefined) {
    env.problems.push({
      code: "EnvFileMissing",
      file: from?.file ?? file,
      ...(from ? { line: from.line } : {}),
      message: from
        ? `${asConstraints ? "constrains with" : "includes"} ${file}, which does not exist`
        : "does not exist",
    });
    return;
  }
  const parsed = parseRequirementsTxt(text, file);
  (asConstraints ? env.constraints : env.packages).push(...parsed.requirements);
  env.options.push(...parsed.options);
  // What a -r file holds counts as this file does; what a -c file holds only ever constrains.
  const followed = [
    ...parsed.includes.map((include) => ({ ...include, constraints: asConstraints })),
    ...parsed.constraints.map((constraint) => ({ ...constraint, constraints: true })),
  ];
  for (const next of followed)
    addRequirementsFile(
      env,
      beside(file, next.path),
      source,
      { file, line: next.line },
      seen,
      next.constraints,
    );
}

/** One entry of a pip list (in conda.yaml or python_env.yaml): a requirement, an include, or an option. */
function addPipEntry(
  env: DeclaredEnvironment,
  entry: string,
  line: number,
  source: FileSource,
  seen: Set<string>,
): void {
  const text = parseRequirementsTxt(entry, env.file);
  for (const include of text.includes)
    addRequirementsFile(env, beside(env.file, include.path), source, { file: env.file, line }, seen);
  for (const constraint of text.constraints)
    addRequirementsFile(env, beside(env.file, constraint.path), source, { file: env.file, line }, seen, true);
  env.packages.push(...text.requirements.map((r) => ({ ...r, line })));
  env.options.push(...text.options.map((o) => ({ ...o, line })));
}

/** conda.yaml (or a scoring script's conda file): conda specs, and one `{pip: [...]}` entry. */
export function readCondaYaml(file: string, source: FileSource): DeclaredEnvironment {
  const env = empty(file);
  const text = source(file);
  if (text === undefined)
    return { ...env, problems: [{ code: "EnvFileMissing", file, message: "does not exist" }] };
  const { value, problem } = readYaml(text, file);
  if (problem) return { ...env, problems: [problem] };
  const dependencies = (value as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(dependencies))
    return { ...env, problems: [{ code: "EnvFileMalformed", file, message: "has no `dependencies` list" }] };
  const seen = new Set([file]);
  dependencies.forEach((entry, index) => {
    if (typeof entry === "string") {
      const spec = parseCondaSpec(entry, file, lineOf(text, entry));
      if (spec.name === "python") env.python = spec;
      else env.packages.push(spec);
    } else if (entry && typeof entry === "object" && Array.isArray((entry as { pip?: unknown }).pip)) {
      for (const pip of (entry as { pip: unknown[] }).pip)
        addPipEntry(env, String(pip), lineOf(text, String(pip)), source, seen);
    } else {
      env.problems.push({
        code: "EnvFileMalformed",
        file,
        message: `dependency #${index + 1} is neither a conda spec nor a pip list`,
      });
    }
  });
  return env;
}

/** python_env.yaml: python, build dependencies, and dependencies (with `-r` includes). */
export function readPythonEnvYaml(file: string, source: FileSource): DeclaredEnvironment {
  const env = empty(file);
  const text = source(file);
  if (text === undefined)
    return { ...env, problems: [{ code: "EnvFileMissing", file, message: "does not exist" }] };
  const { value, problem } = readYaml(text, file);
  if (problem) return { ...env, problems: [problem] };
  const doc = (value ?? {}) as { python?: unknown; dependencies?: unknown };
  if (doc.python !== undefined) {
    const version = String(doc.python);
    env.python = parseCondaSpec(`python=${version}`, file, lineOf(text, version));
  } else {
    env.problems.push({
      code: "EnvFileMalformed",
      file,
      message: "has no `python` key (MLflow's virtualenv manager needs one)",
    });
  }
  const seen = new Set([file]);
  if (Array.isArray(doc.dependencies))
    for (const dep of doc.dependencies)
      addPipEntry(env, String(dep), lineOf(text, String(dep)), source, seen);
  return env;
}

/** requirements.txt, with everything it includes and constrains. */
export function readRequirementsTxt(file: string, source: FileSource): DeclaredEnvironment {
  const env = empty(file);
  addRequirementsFile(env, file, source, undefined, new Set());
  return env;
}
