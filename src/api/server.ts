/**
 * The one HTTP server of `pier up` on 127.0.0.1: the management API under /api/v1 (token in a 0600
 * file, compared in constant time), the gateway under /endpoints, and /metrics.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec } from "../config/index.js";
import { type Engine, parseTrafficArgument, secretsEqual } from "../engine/index.js";
import { createGateway, createMetrics } from "../gateway/index.js";
import { PierError, portHolder, toPierError, userError } from "../shared/index.js";

export const UP_FILE = "up.json";
export const API_TOKEN_FILE = "api-token";

export interface UpInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw userError("BadRequest", "The request body is not valid JSON", "Send a JSON object.");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    .end(text);
}

/** The management API's routes. */
async function handleApi(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? "GET";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent); // after /api/v1
  const [resource, name, sub, subName, leaf] = parts;
  if (resource === "endpoints" && !name) {
    if (method === "GET") return sendJson(res, 200, engine.listEndpoints());
    if (method === "POST") {
      const body = await readJson(req);
      return sendJson(
        res,
        201,
        engine.createEndpoint(parseEndpointSpec(body.spec, String(body.source ?? "endpoint"))),
      );
    }
  }
  if (resource === "endpoints" && name && !sub) {
    if (method === "GET") return sendJson(res, 200, engine.showEndpoint(name));
    if (method === "DELETE") return sendJson(res, 200, await engine.deleteEndpoint(name));
    if (method === "PATCH") {
      const body = await readJson(req);
      const spec =
        body.spec === undefined
          ? undefined
          : parseEndpointSpec(body.spec, String(body.source ?? "endpoint")).spec;
      if (spec && spec.name !== name)
        throw userError(
          "BadArgument",
          `The file describes endpoint '${spec.name}', not '${name}'`,
          "Check the name in the YAML file.",
        );
      return sendJson(
        res,
        200,
        engine.updateEndpoint(name, {
          ...(typeof body.traffic === "string"
            ? { traffic: parseTrafficArgument(body.traffic, "--traffic") }
            : {}),
          ...(typeof body.mirror_traffic === "string"
            ? { mirrorTraffic: parseTrafficArgument(body.mirror_traffic, "--mirror-traffic") }
            : {}),
          ...(spec ? { spec } : {}),
        }),
      );
    }
  }
  if (resource === "endpoints" && name && sub === "credentials" && method === "POST")
    return sendJson(res, 200, engine.credentials(name));
  if (resource === "endpoints" && name && sub === "regenerate-keys" && method === "POST") {
    const body = await readJson(req);
    const keyType = String(body.keyType ?? "").toLowerCase();
    if (keyType !== "primary" && keyType !== "secondary")
      throw userError("BadArgument", "--key-type must be primary or secondary", "Pass --key-type primary.");
    return sendJson(res, 200, engine.regenerateKey(name, keyType));
  }
  if (resource === "doctor" && !name && method === "GET") {
    return sendJson(
      res,
      200,
      engine.listEndpoints().flatMap((e) => engine.doctor(e.name)),
    );
  }
  if (resource === "endpoints" && name && sub === "doctor" && method === "GET") {
    return sendJson(res, 200, engine.doctor(name, query.get("deployment") ?? undefined));
  }
  if (resource === "endpoints" && name && sub === "events" && method === "GET") {
    return sendJson(res, 200, engine.events(name, query.get("deployment") ?? undefined));
  }
  if (resource === "endpoints" && name && sub === "deployments") {
    if (!subName && method === "GET") return sendJson(res, 200, engine.listDeployments(name));
    if (subName && !leaf && method === "GET") return sendJson(res, 200, engine.showDeployment(name, subName));
    if (subName && !leaf && method === "DELETE")
      return sendJson(res, 200, await engine.deleteDeployment(name, subName));
    if (subName && leaf === "logs" && method === "GET") {
      const container = query.get("container") ?? "inference-server";
      if (container !== "inference-server" && container !== "storage-initializer") {
        throw userError(
          "BadArgument",
          `--container must be inference-server or storage-initializer, got '${container}'`,
          "Pass --container storage-initializer.",
        );
      }
      const lines = Number(query.get("lines") ?? "100");
      return sendJson(res, 200, {
        logs: engine.logs(name, subName, container, Number.isFinite(lines) && lines > 0 ? lines : 100),
      });
    }
  }
  if (resource === "deployments" && !name && method === "POST") {
    const body = await readJson(req);
    const loaded = parseDeploymentSpec(body.spec, String(body.source ?? "deployment"));
    // Progress streams as NDJSON lines; the last line carries the result or the error.
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    try {
      const result = await engine.applyDeployment(loaded, {
        specDir: String(body.specDir ?? process.cwd()),
        allTraffic: body.allTraffic === true,
        mode: body.mode === "update" ? "update" : "create",
        progress: (event) => res.write(`${JSON.stringify({ progress: event })}\n`),
      });
      res.end(`${JSON.stringify({ result })}\n`);
    } catch (error) {
      res.end(`${JSON.stringify({ error: toPierError(error).toJSON() })}\n`);
    }
    return;
  }
  throw new PierError({
    code: "RouteNotFound",
    summary: `No API route ${method} /api/v1/${parts.join("/")}`,
    fix: "Update the pier CLI to match the running pier up.",
  });
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts the server on `port` (0 = any free port); fails with PortInUse when it is taken. */
export async function startServer(engine: Engine, home: string, port: number): Promise<RunningServer> {
  const metrics = createMetrics(engine);
  const gateway = createGateway(engine, metrics);
  const tokenPath = join(home, API_TOKEN_FILE);
  if (!existsSync(tokenPath))
    writeFileSync(tokenPath, randomBytes(32).toString("base64url"), { mode: 0o600 });
  const token = readFileSync(tokenPath, "utf8").trim();

  const server = createServer(async (req, res) => {
    try {
      if (await gateway.handle(req, res)) return;
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/metrics") {
        res
          .writeHead(200, { "content-type": metrics.registry.contentType })
          .end(await metrics.registry.metrics());
        return;
      }
      if (url.pathname.startsWith("/api/v1/")) {
        const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
        if (!secretsEqual(given, token)) {
          sendJson(res, 401, {
            error: {
              code: "Unauthorized",
              summary: "Missing or wrong management API token",
              details: [],
              fix: `Use the token in ${tokenPath}.`,
              class: "user",
            },
          });
          return;
        }
        await handleApi(engine, req, res, url.pathname.slice("/api/v1".length), url.searchParams);
        return;
      }
      sendJson(res, 404, {
        error: {
          code: "NotFound",
          message: `No route ${url.pathname}; scoring is at /endpoints/<name>/score`,
        },
      });
    } catch (error) {
      const e = toPierError(error);
      if (!res.headersSent) sendJson(res, e.httpStatus, { error: e.toJSON() });
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        const holder = portHolder(port);
        reject(
          new PierError({
            code: "PortInUse",
            summary: `Port ${port} on 127.0.0.1 is already in use${holder ? ` by process ${holder.pid} (${holder.command.slice(0, 120)})` : ""}`,
            details: holder
              ? [`listening socket of pid ${holder.pid}, found through /proc/net/tcp`]
              : ["the process that holds it is not visible to this user"],
            fix: `Stop ${holder ? `process ${holder.pid}` : "what uses it"}, or start pier on another port: pier up --port 0 (any free port) or --port ${port + 1}`,
            data: { port, ...(holder ? { pid: holder.pid } : {}) },
          }),
        );
      } else reject(error);
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const url = `http://127.0.0.1:${actualPort}`;
  engine.baseUrl = url;
  const info: UpInfo = { pid: process.pid, port: actualPort, url, startedAt: new Date().toISOString() };
  writeFileSync(join(home, UP_FILE), JSON.stringify(info), { mode: 0o600 });
  return {
    server,
    port: actualPort,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(join(home, UP_FILE), { force: true });
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
