/**
 * A request body read with a limit: past it, the rest is read and dropped (so that the client, still
 * sending, gets the 413 instead of a reset connection), and the socket is closed only if the client
 * goes on past a hard cap.
 */
import type { IncomingMessage } from "node:http";
import { userError } from "./errors.js";

/** Past this much, a client still sending after its 413 is cut off. */
const DRAIN_CAP_BYTES = 64 * 2 ** 20;

export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
      else if (size > limitBytes + DRAIN_CAP_BYTES) req.destroy();
      else chunks.length = 0;
    });
    req.on("end", () => {
      if (size <= limitBytes) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      else
        reject(
          userError(
            "PayloadTooLarge",
            `The request body is ${size} bytes; pier takes at most ${limitBytes} (${(limitBytes / 2 ** 20).toFixed(0)} MiB)`,
            "Send fewer rows per request, or split the batch.",
          ),
        );
    });
    req.on("error", reject);
  });
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
