/**
 * pier's handler on a socket: Node's HTTP server on 127.0.0.1, each request handed over as a
 * PierRequest (its body read only when the handler asks, with its limit) and each PierResponse written
 * back (a stream body line by line). Node's own parser refusals still answer JSON; a port that is taken
 * is PortInUse with the process that holds it; a stop lets the requests in flight finish first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  type BodyRead,
  PierError,
  type PierRequest,
  type PierResponse,
  portHolder,
  readBody,
} from "../shared/index.js";

/** How long and how much a client may take: each bound answers with its own status, never a hang. */
export interface HttpLimits {
  /** A request's headers must be whole within this (408 after). */
  headerTimeoutMs: number;
  /** A body must be whole within this once a handler reads it (408 after). */
  bodyTimeoutMs: number;
  /** Connections at once, all clients together (429 to the next). */
  maxConnections: number;
  /** Connections at once from one address (429 to the next). */
  maxConnectionsPerClient: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 1024,
  maxConnectionsPerClient: 512,
};

/** After an answer to a body refused unread, how long the rest may still come before the socket is cut. */
const LINGER_MS = 2000;

/** A request on a socket as handlers take it; `abandoned` says its body was refused unread. */
function pierRequest(req: IncomingMessage, bodyTimeoutMs: number): PierRequest & { abandoned(): boolean } {
  let read: BodyRead | undefined;
  return {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: req.headers,
    connection: req.socket,
    body: (limit) => {
      read ??= readBody(req, limit, bodyTimeoutMs);
      return read.body;
    },
    abandoned: () => read?.abandoned === true,
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

/** A JSON error written straight on a socket that has no request object (yet). */
function rawAnswer(
  socket: import("node:stream").Duplex,
  status: string,
  error: { code: string; summary: string; fix: string },
): void {
  if (!socket.writable) return;
  const body = JSON.stringify({ error: { ...error, class: "user", details: [] } });
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-pier-error-code: ${error.code}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Node's parser refused the request (a timeout, headers too large, a malformed request line): a JSON answer all the same. */
function refuseMalformed(error: NodeJS.ErrnoException, socket: import("node:stream").Duplex): void {
  // An answer already under way on this socket: nothing more can be said on it.
  const current = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  if (current?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, answer] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [
          "408 Request Timeout",
          {
            code: "RequestTimeout",
            summary: "The request did not arrive in time",
            fix: "Send the request line and headers at once (pier up --header-timeout sets how long pier waits).",
          },
        ]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [
            "431 Request Header Fields Too Large",
            {
              code: "HeadersTooLarge",
              summary: "The request's headers are larger than 16 KiB",
              fix: "Send smaller headers (a token, not a file, in Authorization).",
            },
          ]
        : [
            "400 Bad Request",
            {
              code: "BadRequest",
              summary: `The request is not valid HTTP${error.code === "HPE_INVALID_METHOD" ? " (an unknown method)" : ""}`,
              fix: "Send an HTTP/1.1 request with GET, POST, PUT, PATCH or DELETE.",
            },
          ];
  rawAnswer(socket, status, answer);
}

/** Connections counted per client address and in total; one past a cap is answered 429 and closed. */
function capConnections(server: Server, limits: HttpLimits): void {
  const perClient = new Map<string, number>();
  let total = 0;
  server.on("connection", (socket: Socket) => {
    const client = socket.remoteAddress ?? "";
    const mine = perClient.get(client) ?? 0;
    if (total >= limits.maxConnections || mine >= limits.maxConnectionsPerClient) {
      const overall = total >= limits.maxConnections;
      rawAnswer(socket, "429 Too Many Requests", {
        code: "TooManyConnections",
        summary: overall
          ? `pier up holds ${total} connections, its limit (--max-connections ${limits.maxConnections})`
          : `This client holds ${mine} connections, the limit for one address (--max-connections-per-client ${limits.maxConnectionsPerClient})`,
        fix: "Reuse connections (keep-alive, a pool) rather than opening one per request, or raise the limit on pier up.",
      });
      socket.destroySoon();
      return;
    }
    total++;
    perClient.set(client, mine + 1);
    socket.once("close", () => {
      total--;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
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

/**
 * After the answer to a request whose body was refused unread: the connection closes, but only once
 * the client had `LINGER_MS` to take the answer, so that it reads a 413 rather than a reset.
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once("finish", () => {
    const socket = req.socket;
    req.resume();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

/** Listens on 127.0.0.1:`port` (0 = any free port); fails with PortInUse when it is taken. */
export async function listenHttp(
  handle: (request: PierRequest) => Promise<PierResponse>,
  port: number,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
): Promise<Listening> {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let stopping = false;
  const server = createServer(
    {
      headersTimeout: limits.headerTimeoutMs,
      // A backstop for a body no handler reads; one that is read has its own deadline (http-body.ts).
      requestTimeout: limits.headerTimeoutMs + limits.bodyTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      inFlight++;
      res.on("close", () => {
        inFlight--;
        if (inFlight === 0) drained?.();
      });
      const request = pierRequest(req, limits.bodyTimeoutMs);
      void handle(request).then(
        (response) => {
          if (request.abandoned()) {
            response.headers.connection = "close";
            res.shouldKeepAlive = false;
            closeAfterAnswer(req, res);
          } else if (stopping) response.headers.connection = "close";
          return send(res, response).then(
            () => {
              if (response.afterSend) setImmediate(response.afterSend);
            },
            () => res.destroy(),
          );
        },
        // handle answers every error itself; this is only a last guard against a broken socket.
        () => res.destroy(),
      );
    },
  );
  server.keepAliveTimeout = 65_000;
  server.on("clientError", refuseMalformed);
  // A proxy's tunnel is nothing pier offers: a 405, not a silent close.
  server.on("connect", (_req: IncomingMessage, socket: Socket) =>
    rawAnswer(socket, "405 Method Not Allowed", {
      code: "MethodNotAllowed",
      summary: "pier is not a proxy: CONNECT is not served",
      fix: "Send the request itself (POST /endpoints/<name>/score) to pier's URL.",
    }),
  );
  capConnections(server, limits);
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
      // From now on each answer closes its connection, and an idle one closes at once.
      stopping = true;
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
