/**
 * pier's handler on a socket: Node's HTTP server on 127.0.0.1, each request handed over as a
 * PierRequest (its body read only when the handler asks, with its limit) and each PierResponse written
 * back (a stream body line by line). Node's own parser refusals still answer JSON; a port that is taken
 * is PortInUse with the process that holds it; a stop lets the requests in flight finish first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { PierError, type PierRequest, type PierResponse, portHolder, readBody } from "../shared/index.js";

/** A request on a socket as handlers take it. */
function pierRequest(req: IncomingMessage): PierRequest {
  let read: Promise<Buffer> | undefined;
  return {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: req.headers,
    connection: req.socket,
    body: (limit) => {
      read ??= readBody(req, limit);
      return read;
    },
  };
}

/** Writes a response; a stream body line by line as it comes. */
async function send(res: ServerResponse, response: PierResponse): Promise<void> {
  const { body } = response;
  if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) {
    res.writeHead(response.status, response.headers).end(body);
    return;
  }
  res.writeHead(response.status, response.headers);
  for await (const chunk of body) res.write(chunk);
  res.end();
}

/** Node's parser refused the request (headers too large, a malformed request line): a JSON answer all the same. */
function refuseMalformed(error: NodeJS.ErrnoException, socket: import("node:stream").Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const body = JSON.stringify({
    error: {
      code: tooLarge ? "HeadersTooLarge" : "BadRequest",
      class: "user",
      summary: tooLarge ? "The request's headers are larger than 16 KiB" : "The request is not valid HTTP",
      details: [],
      fix: tooLarge
        ? "Send smaller headers (a token, not a file, in Authorization)."
        : "Send an HTTP/1.1 request.",
    },
  });
  socket.end(
    `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function portInUse(port: number): PierError {
  const holder = portHolder(port);
  return new PierError({
    code: "PortInUse",
    summary: `Port ${port} on 127.0.0.1 is already in use${holder ? ` by process ${holder.pid} (${holder.command.slice(0, 120)})` : ""}`,
    details: holder
      ? [`listening socket of pid ${holder.pid}, found through /proc/net/tcp`]
      : ["the process that holds it is not visible to this user"],
    fix: `Stop ${holder ? `process ${holder.pid}` : "what uses it"}, or start pier on another port: pier up --port 0 (any free port) or --port ${port + 1}`,
    data: { port, ...(holder ? { pid: holder.pid } : {}) },
  });
}

export interface Listening {
  server: Server;
  port: number;
  url: string;
  /**
   * Stops taking connections, lets the requests in flight finish (up to `graceMs`), then closes what
   * is left. Resolves to how many requests were still running when it began.
   */
  close(graceMs: number): Promise<number>;
}

/** Listens on 127.0.0.1:`port` (0 = any free port); fails with PortInUse when it is taken. */
export async function listenHttp(
  handle: (request: PierRequest) => Promise<PierResponse>,
  port: number,
): Promise<Listening> {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer((req, res) => {
    inFlight++;
    res.on("close", () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    void handle(pierRequest(req)).then(
      (response) =>
        send(res, response).then(
          () => {
            if (response.afterSend) setImmediate(response.afterSend);
          },
          () => res.destroy(),
        ),
      // handle answers every error itself; this is only a last guard against a broken socket.
      () => res.destroy(),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.on("clientError", refuseMalformed);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? portInUse(port) : error),
    );
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    server,
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    close: async (graceMs) => {
      const running = inFlight;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0 && graceMs > 0)
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, graceMs).unref();
        });
      server.closeAllConnections();
      await closed;
      return running;
    },
  };
}
