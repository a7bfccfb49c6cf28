/**
 * One error grammar for all of pier: a stable code, a one-line summary, the evidence, and a fix.
 * User errors (bad input, missing files) are told apart from internal errors (bugs in pier).
 */

/** user: bad input or state; usage: a wrong command line (exit 2); internal: a bug in pier. */
export type ErrorKind = "user" | "usage" | "internal";

export interface PierErrorInit {
  code: string;
  summary: string;
  details?: string | string[];
  fix?: string;
  kind?: ErrorKind;
  cause?: unknown;
  /** Structured evidence (e.g. validation findings) for tools such as the doctor. */
  data?: Record<string, unknown>;
}

export interface PierErrorJson {
  code: string;
  summary: string;
  details: string[];
  fix?: string;
  kind: ErrorKind;
  data?: Record<string, unknown>;
}

/** The only error type library code throws on purpose. */
export class PierError extends Error {
  readonly code: string;
  readonly summary: string;
  readonly details: string[];
  readonly fix: string | undefined;
  readonly kind: ErrorKind;
  readonly data: Record<string, unknown> | undefined;

  constructor(init: PierErrorInit) {
    super(`${init.code}: ${init.summary}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "PierError";
    this.code = init.code;
    this.summary = init.summary;
    this.details =
      init.details === undefined ? [] : Array.isArray(init.details) ? init.details : [init.details];
    this.fix = init.fix;
    this.kind = init.kind ?? "user";
    this.data = init.data;
  }

  toJSON(): PierErrorJson {
    return {
      code: this.code,
      summary: this.summary,
      details: this.details,
      ...(this.fix === undefined ? {} : { fix: this.fix }),
      kind: this.kind,
      ...(this.data === undefined ? {} : { data: this.data }),
    };
  }
}

/** Shorthand for the common case: a user error with a fix. */
export function userError(
  code: string,
  summary: string,
  fix?: string,
  details?: string | string[],
): PierError {
  return new PierError({ code, summary, fix, details, kind: "user" });
}

/** Wraps anything thrown into a PierError; unknown errors are internal and keep their stack as evidence. */
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
  if (nodeError?.code === "EACCES" && nodeError.path) {
    return userError(
      "PermissionDenied",
      `Permission denied: ${nodeError.path}`,
      "Check the file's permissions.",
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && error.stack ? error.stack.split("\n").slice(1, 6) : [];
  return new PierError({
    code: "InternalError",
    summary: message,
    details: stack.map((line) => line.trim()),
    fix: "This is a bug in pier. Run again with PIER_LOG=debug and report the output.",
    kind: "internal",
    cause: error,
  });
}
