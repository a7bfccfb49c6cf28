/**
 * One error grammar for all of pier: a stable code (from the one table in codes.ts, which gives its
 * class, HTTP status and exit code), a one-line summary, the evidence, and a fix.
 */
import { type Code, type CodeClass, codeInfo } from "./codes.js";
import type { Finding } from "./findings.js";

/** Structured evidence an error carries for tools such as the doctor. */
export interface ErrorData {
  /** Validation findings behind the error (a model package that failed its checks). */
  findings?: Finding[];
  /** What the same check found besides (warnings, notes), so that a failed check still says everything. */
  warnings?: Finding[];
  /** The environment check of the same model, when a failed validation could run it too. */
  environment?: PierErrorJson;
  /** A pin the package source cannot meet, and the versions it has. */
  unavailable?: { package: string; available: string[] };
  /** A port, and the process that holds it. */
  port?: number;
  pid?: number;
}

export interface PierErrorInit {
  code: Code;
  summary: string;
  details?: string | string[];
  fix?: string;
  cause?: unknown;
  data?: ErrorData;
}

export interface PierErrorJson {
  code: Code;
  summary: string;
  details: string[];
  fix?: string;
  class: CodeClass;
  data?: ErrorData;
}

/** The only error type library code throws on purpose. */
export class PierError extends Error {
  readonly code: Code;
  readonly summary: string;
  readonly details: string[];
  readonly fix: string | undefined;
  readonly data: ErrorData | undefined;

  constructor(init: PierErrorInit) {
    super(`${init.code}: ${init.summary}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "PierError";
    this.code = init.code;
    this.summary = init.summary;
    this.details =
      init.details === undefined ? [] : Array.isArray(init.details) ? init.details : [init.details];
    this.fix = init.fix;
    this.data = init.data;
  }

  /** user, model or system, from the code table. */
  get class(): CodeClass {
    return codeInfo(this.code).class;
  }

  /** The HTTP status this error answers with. */
  get httpStatus(): number {
    return codeInfo(this.code).http;
  }

  /** The exit code a command that ends with this error returns. */
  get exitCode(): number {
    return codeInfo(this.code).exit;
  }

  static fromJSON(json: PierErrorJson): PierError {
    return new PierError(json);
  }

  toJSON(): PierErrorJson {
    return {
      code: this.code,
      summary: this.summary,
      details: this.details,
      ...(this.fix === undefined ? {} : { fix: this.fix }),
      class: this.class,
      ...(this.data === undefined ? {} : { data: this.data }),
    };
  }
}

/** Shorthand for the common case: an error with a fix. */
export function userError(code: Code, summary: string, fix?: string, details?: string | string[]): PierError {
  return new PierError({ code, summary, fix, details });
}

/** Wraps anything thrown into a PierError; unknown errors are internal and keep their stack as evidence. */
/** What the file system says of a path the user gave, in words, and what to do. */
const PATH_REFUSALS: Record<string, [string, string]> = {
  ELOOP: ["a loop of symbolic links", "Point it at a real file or folder."],
  ENAMETOOLONG: [
    "the name is longer than the file system takes (255 bytes a part, 4096 in all)",
    "Use a shorter name.",
  ],
  ENOTDIR: ["a part of the path is a file, not a folder", "Use a path whose parents are folders."],
  EISDIR: ["a folder where a file was expected", "Name a file."],
  EEXIST: ["it exists already", "Choose another name, or remove it first."],
  EROFS: ["the file system is read-only", "Choose a place you can write to."],
  EXDEV: ["on another file system than pier can move it to", "Choose a place on the same disk."],
  ENXIO: ["a device or a pipe with nothing behind it", "Name a regular file."],
};

export function toPierError(error: unknown): PierError {
  if (error instanceof PierError) return error;
  const nodeError = error as NodeJS.ErrnoException | undefined;
  if (nodeError?.code === "ENOENT" && nodeError.path) {
    return userError(
      "FileNotFound",
      `No such file or folder: ${nodeError.path}`,
      "Check the path and try again.",
    );
  }
  if ((nodeError?.code === "EACCES" || nodeError?.code === "EPERM") && nodeError.path) {
    return userError(
      "PermissionDenied",
      `Permission denied: ${nodeError.path}`,
      "Check the file's permissions.",
    );
  }
  const refusal = nodeError?.code ? PATH_REFUSALS[nodeError.code] : undefined;
  if (refusal && nodeError?.path)
    return userError("PathUnusable", `${nodeError.path}: ${refusal[0]}`, refusal[1]);
  if ((nodeError?.code === "ENOSPC" || nodeError?.code === "EDQUOT") && nodeError.path)
    return new PierError({
      code: "DiskFull",
      summary: `No space left to write ${nodeError.path}`,
      fix: "Free disk space (pier's home keeps its captured data under data/), then try again.",
      cause: error,
    });
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && error.stack ? error.stack.split("\n").slice(1, 6) : [];
  return new PierError({
    code: "InternalError",
    summary: message,
    details: stack.map((line) => line.trim()),
    fix: "This is a bug in pier. Run again with PIER_LOG=debug and report the output.",
    cause: error,
  });
}
