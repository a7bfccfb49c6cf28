/**
 * The data plane: auth → route (traffic weights, header pin, mirror) → admission (slots, queue,
 * 429) → forward on a kept-alive connection → map failures to status codes → metrics.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeploymentRuntime, EndpointRecord, Engine, Instance } from "../engine/index.js";
import { secretsEqual } from "../engine/index.js";
import type { HostErrorBody } from "../runtime/host-protocol.js";
import { codeInfo, isCode } from "../shared/index.js";
import {
  type Parsed,
  parseCsvBody,
  parseInvocationsBody,
  parseScoreBody,
  parseV2Body,
  unsupportedMediaType,
  v2Outputs,
} from "./formats.js";
import { HttpError } from "./http-error.js";
import type { GatewayMetrics } from "./metrics.js";
import { enforceColumns } from "./signature.js";

export const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEPLOYMENT_HEADER = "azureml-model-deployment";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROUTE =
  /^\/endpoints\/([^/]+)\/(score|invocations|v2\/models\/([^/]+)\/infer|v2\/health\/(ready|live)|v2\/models\/([^/]+))$/;

type Protocol = "score" | "invocations" | "v2";

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError("PayloadTooLarge", `The request body exceeds ${MAX_BODY_BYTES / 2 ** 20} MiB`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string>,
): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A request as the instance takes it: records or positional rows, and optional params. */
type Batch = Parsed & { params?: Record<string, unknown> };

const batchSize = (batch: Batch): number => ("records" in batch ? batch.records.length : batch.rows.length);

export interface Gateway {
  /** Handles /endpoints/… requests; returns false for paths it does not own. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export function createGateway(engine: Engine, metrics: GatewayMetrics): Gateway {
  function authenticate(req: IncomingMessage, record: EndpointRecord): void {
    const endpoint = record.name;
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match)
      throw new HttpError("Unauthorized", "Missing 'Authorization: Bearer <key or token>' header", {
        "www-authenticate": "Bearer",
      });
    const credential = match[1]!.trim();
    if (record.spec.auth_mode === "aml_token") {
      const verdict = engine.tokens.verify(credential, endpoint);
      if (verdict !== "ok")
        throw new HttpError(
          "Unauthorized",
          verdict === "expired"
            ? "The token has expired; get a new one with `pier endpoint get-credentials`"
            : "The token is not valid for this endpoint",
        );
      return;
    }
    const primary = secretsEqual(credential, record.primaryKey);
    const secondary = secretsEqual(credential, record.secondaryKey);
    if (!primary && !secondary)
      throw new HttpError("Unauthorized", "key_auth_access_denied: the key is not valid for this endpoint");
  }

  /** A deployment for this request: the pinned one, or one drawn by traffic weight. */
  function route(
    req: IncomingMessage,
    record: EndpointRecord,
  ): { runtime: DeploymentRuntime; pinned: boolean } {
    const endpoint = record.name;
    const pinned = req.headers[DEPLOYMENT_HEADER];
    if (typeof pinned === "string" && pinned !== "") {
      const runtime = engine.runtime(endpoint, pinned);
      if (!runtime && !engine.store.deployment(endpoint, pinned)) {
        throw new HttpError(
          "DeploymentNotFound",
          `Deployment '${pinned}' does not exist in endpoint '${endpoint}'`,
        );
      }
      if (!runtime)
        throw new HttpError(
          "DeploymentNotReady",
          `Deployment '${pinned}' has no running instances (see \`pier deployment show\`)`,
        );
      return { runtime, pinned: true };
    }
    const weighted = Object.entries(record.traffic).filter(([, w]) => w > 0);
    if (weighted.length === 0)
      throw new HttpError(
        "NoValidDeployment",
        "The endpoint doesn't have any valid deployment with positive weight.",
      );
    let draw = Math.random() * weighted.reduce((s, [, w]) => s + w, 0);
    let chosen = weighted[weighted.length - 1]![0];
    for (const [name, weight] of weighted) {
      draw -= weight;
      if (draw < 0) {
        chosen = name;
        break;
      }
    }
    const runtime = engine.runtime(endpoint, chosen);
    if (!runtime)
      throw new HttpError(
        "DeploymentNotReady",
        `Deployment '${chosen}' has no running instances (see \`pier deployment show\`)`,
      );
    return { runtime, pinned: false };
  }

  /** Scores on one deployment: admission, forward, one retry on another instance if this one died. */
  /** Sends one request body (a JSON batch, or a scoring script's raw body) to the deployment. */
  async function score(initial: DeploymentRuntime, body: string): Promise<string> {
    let runtime = initial;
    const timeoutMs = runtime.record.spec.request_settings.request_timeout_ms;
    const deadline = Date.now() + timeoutMs;
    let exclude: Instance | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const admitted = await runtime.admission.acquire(Math.max(1, deadline - Date.now()), exclude);
      if (!admitted.ok) {
        if (admitted.reason === "overloaded") {
          const limit = runtime.admission.limit;
          throw new HttpError(
            "TooManyRequests",
            `Too many requests: ${limit} are already in flight or queued (2 × max_concurrent_requests_per_instance × instance_count)`,
            { "retry-after": "1" },
          );
        }
        if (admitted.reason === "timeout")
          throw new HttpError(
            "RequestTimeout",
            `The request waited longer than request_timeout_ms (${timeoutMs} ms) for a free instance`,
          );
        if (attempt > 0)
          throw new HttpError(
            "BadGateway",
            "The instance ended while handling the request and no other instance is ready",
          );
        throw new HttpError("NoReadyInstance", `Deployment '${runtime.name}' has no Ready instance`);
      }
      const client = admitted.instance.client;
      const result = client
        ? await client.invoke(body, Math.max(1, deadline - Date.now()))
        : ({ failure: "connection" } as const);
      admitted.release();
      if ("failure" in result) {
        if (result.failure === "timeout")
          throw new HttpError(
            "RequestTimeout",
            `The model took longer than request_timeout_ms (${timeoutMs} ms)`,
          );
        // The instance died, or an update replaced it while the request was on its way: retry once,
        // on the deployment's current instances.
        const current = engine.runtime(runtime.record.endpoint, runtime.name);
        if (current && current !== runtime) {
          runtime = current;
          exclude = undefined;
        } else {
          exclude = admitted.instance;
        }
        continue;
      }
      if (result.status === 200) return result.text;
      let error: HostErrorBody["error"] | undefined;
      try {
        error = (JSON.parse(result.text) as HostErrorBody).error;
      } catch {}
      if (result.status === 400 && error?.kind === "input")
        throw new HttpError(
          isCode(error.code) && codeInfo(error.code).http === 400 ? error.code : "BadRequest",
          error.message,
        );
      throw new HttpError("ModelError", `The model failed: ${error?.message ?? `status ${result.status}`}`, {
        "ms-azureml-model-error-statuscode": String(result.status),
        "ms-azureml-model-error-reason": (error?.code ?? "ModelError").slice(0, 100),
      });
    }
    throw new HttpError("BadGateway", "The instance ended while handling the request, and so did the retry");
  }

  /** Checks named records against a deployment's signature; rows and unsigned models pass as they are. */
  function conform(runtime: DeploymentRuntime, batch: Batch): Batch {
    if (!("records" in batch) || !runtime.columns) return batch;
    return { ...batch, records: enforceColumns(batch.records, runtime.columns) };
  }

  function mirror(record: EndpointRecord, pinned: boolean, batch: Batch, raw: string): void {
    if (pinned) return;
    const endpoint = record.name;
    for (const [name, percent] of Object.entries(record.mirrorTraffic)) {
      if (percent <= 0 || Math.random() * 100 >= percent) continue;
      const runtime = engine.runtime(endpoint, name);
      if (!runtime) continue;
      score(runtime, runtime.rawRequests ? raw : JSON.stringify(conform(runtime, batch))).then(
        () => metrics.mirrored.inc({ endpoint, deployment: name, status: "200" }),
        (error: unknown) =>
          metrics.mirrored.inc({
            endpoint,
            deployment: name,
            status: String(error instanceof HttpError ? error.status : 500),
          }),
      );
    }
  }

  function parse(protocol: Protocol, req: IncomingMessage, body: Buffer, runtime: DeploymentRuntime): Batch {
    const contentType = (req.headers["content-type"] ?? "application/json")
      .split(";")[0]!
      .trim()
      .toLowerCase();
    if (protocol === "invocations" && contentType === "text/csv")
      return { records: parseCsvBody(body.toString("utf8")) };
    if (contentType !== "application/json" && contentType !== "") {
      throw unsupportedMediaType(
        contentType,
        protocol === "invocations" ? "application/json, text/csv" : "application/json",
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new HttpError(
        "InvalidJson",
        "Invalid input. Ensure that input is a valid JSON formatted string.",
      );
    }
    if (protocol === "v2") return { records: parseV2Body(json) };
    const parsed =
      protocol === "score"
        ? parseScoreBody(json, runtime.columns)
        : parseInvocationsBody(json, runtime.columns);
    const params = (json as { params?: unknown } | null)?.params;
    return params && typeof params === "object" && !Array.isArray(params)
      ? { ...parsed, params: params as Record<string, unknown> }
      : parsed;
  }

  /** The response body: the instance's JSON passes through untouched except for v2. */
  function respond(protocol: Protocol, predictions: string, modelName: string): string {
    if (protocol === "invocations") return `{"predictions":${predictions}}`;
    if (protocol === "v2") {
      return JSON.stringify({
        model_name: modelName,
        outputs: v2Outputs(JSON.parse(predictions) as Record<string, unknown>[]),
      });
    }
    return predictions;
  }

  return {
    async handle(req, res) {
      const rawUrl = req.url ?? "/";
      const query = rawUrl.indexOf("?");
      const pathname = query < 0 ? rawUrl : rawUrl.slice(0, query);
      const match = ROUTE.exec(pathname);
      if (!match) return false;
      const endpoint = decodeURIComponent(match[1]!);
      const started = performance.now();
      const clientRequestId = String(req.headers["x-ms-client-request-id"] ?? "")
        .replace(/[^A-Za-z0-9_-]/g, "")
        .slice(0, 40);
      const requestIdHeader = String(req.headers["x-request-id"] ?? "");
      const headers: Record<string, string> = {
        "x-request-id": GUID.test(requestIdHeader) ? requestIdHeader : randomUUID(),
        ...(clientRequestId ? { "x-ms-client-request-id": clientRequestId } : {}),
      };
      let deployment = "none";
      let routed: DeploymentRuntime | undefined;
      let status = 200;
      try {
        const record = engine.endpointRecord(endpoint);
        if (!record) throw new HttpError("EndpointNotFound", `Endpoint '${endpoint}' does not exist`);
        if (match[4]) {
          send(res, 200, "", headers);
          return true;
        }
        const protocol: Protocol =
          match[2] === "score" ? "score" : match[2] === "invocations" ? "invocations" : "v2";
        if (req.method !== "POST" && !(match[5] && req.method === "GET"))
          throw new HttpError("MethodNotAllowed", `Use POST for ${pathname}`);
        authenticate(req, record);
        const body = await readBody(req);
        const { runtime, pinned } = route(req, record);
        deployment = runtime.name;
        routed = runtime;
        runtime.enter(req.socket);
        headers[DEPLOYMENT_HEADER] = runtime.name;
        if (match[5]) {
          send(
            res,
            200,
            {
              name: match[5],
              versions: [String(runtime.version.version)],
              platform: "pier-onnx",
              inputs: runtime.columns ?? [],
            },
            headers,
          );
          return true;
        }
        if (runtime.rawRequests) {
          // A scoring script's run() gets the body as it came, as Azure's inference server passes it.
          const raw = body.toString("utf8");
          sendJsonText(res, 200, await score(runtime, raw), headers);
          metrics.countRequest(endpoint, deployment, 200);
          return true;
        }
        const parsed = parse(protocol, req, body, runtime);
        if (batchSize(parsed) === 0) throw new HttpError("EmptyInput", "The request has no rows to score");
        mirror(record, pinned, parsed, body.toString("utf8"));
        const predictions = await score(runtime, JSON.stringify(conform(runtime, parsed)));
        sendJsonText(res, 200, respond(protocol, predictions, runtime.version.name), headers);
        metrics.countRequest(endpoint, deployment, 200);
      } catch (error) {
        const e =
          error instanceof HttpError ? error : new HttpError("InternalError", (error as Error).message);
        status = e.status;
        send(res, e.status, e.body, { ...headers, ...e.headers });
        metrics.countRequest(endpoint, deployment, e.status);
      } finally {
        const ms = performance.now() - started;
        metrics.observeLatency(endpoint, deployment, ms / 1000);
        routed?.leave(status, ms);
      }
      return true;
    },
  };
}
