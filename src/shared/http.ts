/**
 * A request and its answer as pier's handlers see them, whatever carried them: a socket (the Node
 * adapter in app/http-server.ts) or a test's fetch Request (app/fetch.ts). Handlers read the body
 * only when they need it, with their own limit, so a request refused before (401, 404) is never read.
 */
import type { IncomingHttpHeaders } from "node:http";

export interface PierRequest {
  readonly method: string;
  /** The path and query as sent: "/endpoints/fin/score?verbose=true". */
  readonly url: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The body, at most `limitBytes` (a PayloadTooLarge PierError past it). Read once. */
  body(limitBytes: number): Promise<Buffer>;
  /** One object per client connection: how many clients come at once. */
  readonly connection: object;
}

/** A body that streams (NDJSON progress lines), written as each piece comes. */
export type StreamBody = AsyncIterable<string>;

export interface PierResponse {
  status: number;
  headers: Record<string, string | number | string[]>;
  body?: string | Buffer | StreamBody;
  /** Work that waits until the answer is on its way (a mirror copy): it costs the answer nothing. */
  afterSend?: () => void;
}

/** A JSON answer. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string | number | string[]> = {},
): PierResponse {
  const body = JSON.stringify(value);
  return {
    status,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
    body,
  };
}

/** The path without its query string. */
export function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

/** The query string's parameters. */
export function queryOf(url: string): URLSearchParams {
  const query = url.indexOf("?");
  return new URLSearchParams(query < 0 ? "" : url.slice(query + 1));
}

/**
 * A stream body fed by a producer: `push` a line as it happens, `end` it. The consumer (the
 * transport) reads the lines in order; what was pushed before it started reading waits for it.
 */
export function lineStream(): { body: StreamBody; push(line: string): void; end(line?: string): void } {
  const queue: string[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    body: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          if (done) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
    },
    push(line) {
      queue.push(line);
      notify();
    },
    end(line) {
      if (line !== undefined) queue.push(line);
      done = true;
      notify();
    },
  };
}
