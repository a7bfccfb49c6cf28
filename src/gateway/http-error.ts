/** One HTTP error type that knows its response: a code from the table (which gives the status), a message, extra headers. */
import { type Code, codeInfo } from "../shared/index.js";

export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: Code,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = codeInfo(code).http;
  }

  get body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A 400: the request does not fit what the endpoint or model takes. */
export const badRequest = (code: Code, message: string) => new HttpError(code, message);
