/**
 * A request to a scoring script and its answer, as Azure's managed endpoint passes them to and from
 * the inference server in the container: the script gets the method, the query, the headers (with the
 * endpoint's request ids; never the caller's key) and the body as it came, bytes and all; what the
 * server answers comes back as it is, except that anything but a 200 becomes the endpoint's 424 with
 * ms-azureml-model-error-statuscode (reference/azureml-online-endpoints.md, status codes).
 */

import {
  FAILURE_HEADER,
  type ModelFailure,
  parseFailure,
  type ScriptRequest,
  type ScriptResponse,
} from "../runtime/index.js";
import type { PierRequest } from "../shared/index.js";

/** Headers the container never sees: the caller's credentials and the hop's own. */
const DROPPED = new Set([
  "authorization",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "host",
  "content-length",
]);

/** "x-ms-client-request-id" → "X-Ms-Client-Request-Id", as a WSGI server presents header names. */
const titleCase = (name: string) =>
  name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join("-");

/** The request as the script's host takes it (JSON). `ids` are the request ids the endpoint set. */
export function scriptRequest(req: PierRequest, body: Buffer, ids: Record<string, string>): string {
  const query = (req.url ?? "").split("?")[1] ?? "";
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (DROPPED.has(name) || name in ids || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.push([titleCase(name), v]);
  }
  for (const [name, value] of Object.entries(ids)) headers.push([titleCase(name), value]);
  headers.push(["Content-Length", String(body.length)]);
  const request: ScriptRequest = {
    method: req.method ?? "POST",
    query,
    headers,
    body: body.toString("base64"),
  };
  return JSON.stringify(request);
}

export interface ScriptAnswer {
  /** What the client gets: the server's 200, or the endpoint's 424 for anything else. */
  status: number;
  /** What the scoring script's server answered. */
  serverStatus: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The server answered 5xx: the model's failure (the client gets 424). */
  failed: boolean;
  /** Why, when the host knows (its FAILURE_HEADER, kept from the client). */
  failure?: ModelFailure;
}

/** The host's answer as the endpoint returns it. */
export function scriptAnswer(text: string): ScriptAnswer {
  const reply = JSON.parse(text) as ScriptResponse;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of reply.headers) {
    const key = name.toLowerCase();
    const seen = headers[key];
    headers[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const body = Buffer.from(reply.body, "base64");
  const failure = parseFailure(headers[FAILURE_HEADER]);
  delete headers[FAILURE_HEADER];
  if (reply.status === 200) return { status: 200, serverStatus: 200, headers, body, failed: false };
  // Azure's front end answers any status but 200 from the container as 424, with the container's
  // status in ms-azureml-model-error-statuscode (how-to-troubleshoot-online-endpoints, status codes).
  return {
    ...(failure ? { failure } : {}),
    serverStatus: reply.status,
    status: 424,
    headers: {
      ...headers,
      "ms-azureml-model-error-statuscode": String(reply.status),
      "ms-azureml-model-error-reason":
        headers["x-ms-run-function-failed"] === "True"
          ? "run() failed"
          : reply.status < 500
            ? "the scoring script answered an error"
            : "model error",
    },
    body,
    failed: reply.status >= 500,
  };
}
