/**
 * Requirement specs from the three environment files of an MLflow model: requirements.txt (PEP 508
 * lines), conda.yaml (conda match specs plus a pip list) and python_env.yaml. Version specifiers are
 * checked with a PEP 440 implementation; conda specs are translated to PEP 440 first.
 */
import { validRange } from "@renovatebot/pep440";

export interface Requirement {
  /** Normalized as PEP 503 does: lower case, runs of -_. become "-". */
  name: string;
  /** The text as written. */
  raw: string;
  /** PEP 440 specifier ("" when unpinned), e.g. "==1.2.1" or ">=1.0,<2". */
  specifier: string;
  /** The version when the specifier pins exactly one (==X or conda =X without a wildcard). */
  pinned?: string;
  marker?: string;
  /** Where it was written. */
  file: string;
  line: number;
  /** Set when the line could not be understood. */
  problem?: string;
}

export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const NAME_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/;

function exactPin(specifier: string): string | undefined {
  const match = /^===?\s*([^,*\s]+)$/.exec(specifier.trim());
  return match?.[1];
}

/** Parses one PEP 508 requirement (without options such as -r). */
export function parsePipRequirement(text: string, file: string, line: number): Requirement {
  const [body = "", marker] = text.split(";", 2).map((s) => s.trim());
  const match = NAME_PATTERN.exec(body);
  if (!match || body.includes("://") || body.startsWith("git+")) {
    return {
      name: normalizePackageName(body || text),
      raw: text,
      specifier: "",
      file,
      line,
      problem: "not a PEP 508 requirement (URL, path or unknown syntax)",
    };
  }
  const specifier = match[3]!.replace(/\s+/g, "");
  const requirement: Requirement = {
    name: normalizePackageName(match[1]!),
    raw: text,
    specifier,
    file,
    line,
    ...(marker ? { marker } : {}),
  };
  if (specifier !== "" && !validRange(specifier)) {
    requirement.problem = `'${specifier}' is not a valid PEP 440 version specifier`;
    return requirement;
  }
  const pinned = exactPin(specifier);
  if (pinned) requirement.pinned = pinned;
  return requirement;
}

export interface RequirementsFile {
  requirements: Requirement[];
  /** `-r other.txt` includes. */
  includes: string[];
  /** Options pier does not act on (index URLs, -c constraints, …). */
  options: string[];
}

/** Parses requirements.txt text: comments, blank lines, `-r`, and other options are handled. */
export function parseRequirementsTxt(text: string, file: string): RequirementsFile {
  const result: RequirementsFile = { requirements: [], includes: [], options: [] };
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") return;
    if (line.startsWith("-r ") || line.startsWith("--requirement")) {
      result.includes.push(line.replace(/^(-r|--requirement)[\s=]+/, ""));
    } else if (line.startsWith("-")) {
      result.options.push(line);
    } else {
      result.requirements.push(parsePipRequirement(line, file, index + 1));
    }
  });
  return result;
}

/**
 * Translates a conda match spec ("python=3.8", "pip<=21.2.4", "numpy 1.21.*", "scikit-learn>=1,<2")
 * into a Requirement with a PEP 440 specifier. Conda's "=3.8" means "3.8.*"; "==3.8" is exact.
 */
export function parseCondaSpec(text: string, file: string, line: number): Requirement {
  const trimmed = text.trim();
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(trimmed.replace(/^[\w-]+::/, ""));
  if (!match)
    return {
      name: normalizePackageName(trimmed),
      raw: text,
      specifier: "",
      file,
      line,
      problem: "not a conda match spec",
    };
  const name = normalizePackageName(match[1]!);
  let version = match[2]!.trim().split(/\s+/)[0] ?? ""; // drop a build string after the version
  if (version !== "" && /^[0-9]/.test(version)) version = `=${version}`; // "numpy 1.21.*"
  let specifier = "";
  let pinned: string | undefined;
  if (/^=[^=]/.test(version)) {
    const v = version.slice(1);
    specifier = v.endsWith("*") ? `==${v}` : `==${v}.*`;
    // "python=3.11.12" pins one release; "python=3.8" stands for any 3.8.x.
    if (!v.includes("*") && v.split(".").length >= 3) {
      pinned = v;
      specifier = `==${v}`;
    }
  } else if (version !== "") {
    specifier = version;
    pinned = exactPin(version);
  }
  if (specifier !== "" && !validRange(specifier)) {
    return {
      name,
      raw: text,
      specifier,
      file,
      line,
      problem: `'${version}' is not a version spec pier can read`,
    };
  }
  return { name, raw: text, specifier, file, line, ...(pinned ? { pinned } : {}) };
}
