/**
 * The management API under /api/v1: the API token (a 0600 file in the home, compared in constant
 * time) or a dashboard session, then the route table (routes.ts). JSON in, JSON out; a deployment's
 * progress streams as NDJSON lines ending in its result or its error.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { secretsEqual } from "../engine/index.js";
import {
  jsonResponse,
  type Logger,
  lineStream,
  type PierRequest,
  type PierResponse,
  parseJson,
  pathOf,
  queryOf,
  toPierError,
  userError,
} from "../shared/index.js";
import { API_TOKEN_FILE } from "./files.js";
import { apiHandlers, matchRoute, runRoute } from "./router.js";
import type { ApiDeps } from "./routes/handler.js";

/** Management requests are small (a deployment spec): 5 MiB is far more than any needs. */
const MAX_API_BODY_BYTES = 5 * 2 ** 20;

async function readJson(req: PierRequest): Promise<Record<string, unknown>> {
  const body = await req.body(MAX_API_BODY_BYTES);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = parseJson(body.toString("utf8")).value;
  } catch {
    throw userError("BadRequest", "The request body is not valid JSON", "Send a JSON object.");
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw userError("BadRequest", "The request body must be a JSON object", "Send a JSON object.");
  return value as Record<string, unknown>;
}

/** The API token of `home`, made (0600) on first use. */
export function apiToken(home: string): string {
  const tokenPath = join(home, API_TOKEN_FILE);
  if (!existsSync(tokenPath))
    writeFileSync(tokenPath, randomBytes(32).toString("base64url"), { mode: 0o600 });
  return readFileSync(tokenPath, "utf8").trim();
}

export interface ManagementDeps extends ApiDeps {
  logger: Logger;
  token: string;
}

/** The management API: undefined for paths outside /api/v1/. */
export function createManagementApi(deps: ManagementDeps) {
  const { dashboard, logger, token } = deps;
  const handlers = apiHandlers(deps);
  return async function handleApi(req: PierRequest): Promise<PierResponse | undefined> {
    const path = pathOf(req.url);
    if (!path.startsWith("/api/v1/")) return undefined;
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    // The API token, or a dashboard session (whose changes need its CSRF header).
    if (given === undefined ? !dashboard.allowsApi(req) : !secretsEqual(given, token))
      throw userError(
        "Unauthorized",
        "Missing or wrong management API token",
        "Use the token in the api-token file of pier's home (PIER_HOME).",
      );
    logger.debug("api request", { method: req.method, path });
    const route = matchRoute(req.method, path.slice("/api/v1".length));
    const query = queryOf(req.url);
    const body = req.method === "GET" || req.method === "DELETE" ? {} : await readJson(req);
    if (route.stream) {
      // Progress streams as NDJSON lines; the last line carries the result or the error.
      const lines = lineStream();
      runRoute(handlers, route, query, body, (event) =>
        lines.push(`${JSON.stringify({ progress: event })}\n`),
      ).then(
        (result) => lines.end(`${JSON.stringify({ result })}\n`),
        (error: unknown) => lines.end(`${JSON.stringify({ error: toPierError(error).toJSON() })}\n`),
      );
      return { status: 200, headers: { "content-type": "application/x-ndjson" }, body: lines.body };
    }
    return jsonResponse(route.status, await runRoute(handlers, route, query, body, () => {}));
  };
}
