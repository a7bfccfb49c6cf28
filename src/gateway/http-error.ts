/**
 * One HTTP error type that knows its response: a code from the table (which gives the status), a
 * message, extra headers, and what pier knows beyond the message (a fix; a model's stack trace).
 * Each protocol renders it in its own body (gateway/errors.ts).
 */
import type { ModelFailure } from "../runtime/index.js";
import { type Code, codeInfo } from "../shared/index.js";

export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: Code,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: { fix?: string; trace?: string; failure?: ModelFailure } = {},
  ) {
    super(message);
    this.status = codeInfo(code).http;
  }
}

/** A 400: the request does not fit what the endpoint or model takes. */
export const badRequest = (code: Code, message: string) => new HttpError(code, message);
