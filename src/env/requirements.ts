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
  /**
   * Installed from somewhere other than the package index: a URL (a wheel or an archive), a version
   * control URL (git+https://…), or a local path; `editable` for `-e`. The version is not known unless
   * a wheel's file name gives it.
   */
  direct?: {
    kind: "url" | "vcs" | "path";
    location: string;
    editable?: boolean;
    /** A VCS reference without #egg or `name @`: its name is the repository's until pip builds it. */
    nameFromRepository?: boolean;
  };
}

export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const NAME_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/;

function exactPin(specifier: string): string | undefined {
  const match = /^===?\s*([^,*\s]+)$/.exec(specifier.trim());
  return match?.[1];
}

const VCS = /^(git|hg|svn|bzr)\+/;

/** The name a direct reference carries: #egg=name, or a wheel's or sdist's file name. */
function directName(location: string): { name?: string; version?: string; guessed?: boolean } {
  const egg = /[#&]egg=([A-Za-z0-9._-]+)/.exec(location)?.[1];
  if (egg) return { name: egg };
  const file = location.split(/[?#]/)[0]!.split("/").pop() ?? "";
  const wheel = /^([A-Za-z0-9_.]+)-([0-9][^-]*)-.*\.whl$/.exec(file);
  if (wheel) return { name: wheel[1]!, version: wheel[2]! };
  const sdist = /^([A-Za-z0-9_.-]+?)-([0-9][0-9A-Za-z.+!-]*)\.(tar\.gz|zip|tar\.bz2)$/.exec(file);
  if (sdist) return { name: sdist[1]!, version: sdist[2]! };
  // pip reads a VCS project's name from its metadata when it builds it; until then, the repository's.
  if (VCS.test(location)) {
    const repository = /\/([A-Za-z0-9._-]+?)(?:\.git)?\/?(?:@[^/#?]*)?(?:[#?].*)?$/.exec(location)?.[1];
    if (repository) return { name: repository, guessed: true };
  }
  return {};
}

/** A requirement installed from a URL, a VCS or a path rather than the index. */
function directRequirement(
  location: string,
  raw: string,
  file: string,
  line: number,
  editable: boolean,
): Requirement {
  const kind = VCS.test(location) ? "vcs" : /^[a-z]+:\/\//i.test(location) ? "url" : "path";
  const { name, version, guessed } = directName(location);
  return {
    name: normalizePackageName(name ?? location),
    raw,
    specifier: version ? `==${version}` : "",
    ...(version ? { pinned: version } : {}),
    file,
    line,
    direct: {
      kind,
      location,
      ...(editable ? { editable: true } : {}),
      ...(guessed ? { nameFromRepository: true } : {}),
    },
    ...(name || kind === "path"
      ? {}
      : { problem: "a direct reference without a name (add #egg=NAME, or write NAME @ URL)" }),
  };
}

/** Parses one requirement line (PEP 508, or a direct reference: a URL, git+…, a path, `name @ url`). */
export function parsePipRequirement(text: string, file: string, line: number): Requirement {
  const [body = "", marker] = text.split(";", 2).map((s) => s.trim());
  const at = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*@\s*(\S+)$/.exec(body);
  if (at) {
    const direct = directRequirement(at[3]!, text, file, line, false);
    return { ...direct, name: normalizePackageName(at[1]!), ...(marker ? { marker } : {}) };
  }
  if (VCS.test(body) || body.includes("://") || /^(\.{0,2}\/|[A-Za-z0-9_.-]+\.(whl|tar\.gz|zip)$)/.test(body))
    return directRequirement(body, text, file, line, false);
  const match = NAME_PATTERN.exec(body);
  if (!match) {
    return {
      name: normalizePackageName(body || text),
      raw: text,
      specifier: "",
      file,
      line,
      problem: "not a requirement pip understands",
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

/** A pip option line that is neither a requirement nor an include (an index URL, --pre, …). */
export interface PipOption {
  text: string;
  file: string;
  line: number;
}

export interface RequirementsFile {
  requirements: Requirement[];
  /** `-r other.txt` includes, with where they were written. */
  includes: { path: string; line: number }[];
  /** `-c constraints.txt` files, with where they were written. */
  constraints: { path: string; line: number }[];
  /** Options pier does not act on (index URLs, --pre, …), with where they were written. */
  options: PipOption[];
}

/** The value of a `-r x`, `--requirement=x`, `-c x` or `-e x` line. */
const optionValue = (line: string) => line.replace(/^(-[a-z]|--[a-z-]+)(\s+|=)/, "").trim();

/** Parses requirements.txt text: requirements, includes, constraints, editables and options, each with its line. */
export function parseRequirementsTxt(text: string, file: string): RequirementsFile {
  const result: RequirementsFile = { requirements: [], includes: [], constraints: [], options: [] };
  // A backslash at the end of a line continues it on the next.
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    if (index > 0 && /\\$/.test(lines[index - 1]!)) return;
    let full = rawLine;
    for (let k = index; /\\$/.test(lines[k] ?? "") && k + 1 < lines.length; k++)
      full = `${full.replace(/\\$/, "")} ${lines[k + 1]}`;
    // Per-requirement options (--hash, --config-settings, …) say how to install, not what.
    const line = full
      .replace(/(^|\s)#.*$/, "")
      .replace(/\s+--(hash|config-settings|global-option|install-option)(=|\s+)\S+/g, "")
      .trim();
    if (line === "") return;
    const at = index + 1;
    if (/^(-r|--requirement)(\s|=)/.test(line)) result.includes.push({ path: optionValue(line), line: at });
    else if (/^(-c|--constraint)(\s|=)/.test(line))
      result.constraints.push({ path: optionValue(line), line: at });
    else if (/^(-e|--editable)(\s|=)/.test(line))
      result.requirements.push(directRequirement(optionValue(line), full.trim(), file, at, true));
    else if (line.startsWith("-")) result.options.push({ text: line, file, line: at });
    else result.requirements.push(parsePipRequirement(line, file, at));
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
