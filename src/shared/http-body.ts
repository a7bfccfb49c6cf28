/**
 * A request body read with a limit and a deadline. A body declared (Content-Length) or grown past the
 * limit is refused at once, before the rest is read: the answer is a 413 and the connection closes
 * after it. A body that does not arrive within the deadline is a 408; a client that goes away
 * mid-body is a client abort (499), the client's doing and not pier's failure.
 */
import type { IncomingMessage } from "node:http";
import { userError } from "./errors.js";

export interface BodyRead {
  /** The body, or a PierError: PayloadTooLarge, RequestTimeout, ClientClosedRequest. */
  body: Promise<Buffer>;
  /** True once the body was refused unread: the connection must close after the answer. */
  readonly abandoned: boolean;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export const tooLarge = (size: number, limitBytes: number, declared: boolean) =>
  userError(
    "PayloadTooLarge",
    `The request body ${declared ? "is declared as" : "is more than"} ${size} bytes; pier takes at most ${limitBytes} (${mib(limitBytes)})`,
    "Send fewer rows per request, or split the batch.",
  );

/** Reads `req`'s body: at most `limitBytes`, within `timeoutMs` of the call. */
export function readBody(req: IncomingMessage, limitBytes: number, timeoutMs = 30_000): BodyRead {
  const state = { abandoned: false };
  const body = new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    const stop = (error: Error) => {
      state.abandoned = true;
      clearTimeout(timer);
      req.removeAllListeners("data");
      req.removeAllListeners("end");
      reject(error);
    };
    if (Number.isFinite(declared) && declared > limitBytes) {
      state.abandoned = true;
      reject(tooLarge(declared, limitBytes, true));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () =>
        stop(
          userError(
            "RequestTimeout",
            `The request body did not arrive within ${+(timeoutMs / 1000).toFixed(1)} s (${size} bytes came${Number.isFinite(declared) ? ` of ${declared} declared` : ""})`,
            "Send the whole body at once, or raise pier up --body-timeout.",
          ),
        ),
      timeoutMs,
    );
    timer.unref();
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) stop(tooLarge(size, limitBytes, false));
      else chunks.push(chunk);
    });
    req.on("end", () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    const aborted = () => {
      if (req.complete) return;
      stop(
        userError(
          "ClientClosedRequest",
          `The client closed the connection after ${size} bytes of the body`,
          "Nothing to fix on pier's side: the client went away before it had sent its request.",
        ),
      );
    };
    req.on("error", aborted);
    req.on("close", aborted);
    if (req.destroyed) aborted();
  });
  return {
    body,
    get abandoned() {
      return state.abandoned;
    },
  };
}

/** A path segment decoded; a malformed escape (%ZZ) is the client's mistake, a 400. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw userError(
      "BadRequest",
      `The path segment '${segment.slice(0, 60)}' is not valid percent-encoding`,
      "Encode names with encodeURIComponent (%XX with two hex digits).",
    );
  }
}
