/**
 * Azure ML's /score, as a managed online endpoint and its inference server answer it
 * (reference/azureml-online-endpoints.md; azureml_inference_server_http/server/routes.py):
 * - POST /score: {"input_data": split | records | rows | {name: tensor}}, a bare list, the legacy
 *   {"data": …}, or a row object of the signature's columns; JSON only;
 * - GET /swagger.json?version=2|3|3.1: the deployment's document (azure-swagger.ts);
 * - errors {"error": {"code", "message", "fix"?}}; answers carry x-ms-request-id as the server sets it.
 */
import type { ColumnSpec } from "../../model/index.js";
import { badRequest } from "../http-error.js";
import type { ErrorResponse, ProtocolAdapter, ProtocolRoute } from "../protocol.js";
import {
  batchOf,
  fromList,
  fromSplit,
  isObject,
  type Json,
  parseBodyJson,
  requireJson,
  type Shaped,
} from "../shapes.js";
import { swaggerDocument } from "./azure-swagger.js";

/** Azure's /score body. */
function shapeScoreBody(body: Json, columns: readonly ColumnSpec[] | null): Shaped {
  if (Array.isArray(body)) return fromList(body, "score", "score");
  if (!isObject(body)) throw badRequest("BadRequest", "The request body must be a JSON object or list");
  const input = "input_data" in body ? body.input_data : "data" in body ? body.data : undefined;
  if (input === undefined) {
    const names = columns?.map((c) => String(c.name)) ?? [];
    if (names.length > 0 && Object.keys(body).some((k) => names.includes(k)))
      return { records: [body], view: "records" };
    throw badRequest("MissingInputData", "A value is not provided for the 'input_data' parameter.");
  }
  if (Array.isArray(input)) return fromList(input, "score", "score");
  if (isObject(input)) {
    if ("data" in input && ("columns" in input || "index" in input || Object.keys(input).length === 1))
      return fromSplit(input, "records");
    return { value: input, view: "score" };
  }
  throw badRequest(
    "BadRequest",
    "'input_data' must be a split-oriented object, a list of rows or records, or a dict of named inputs",
  );
}

const SCORE: ProtocolRoute = { access: "infer", anyMethodForScripts: true };

const SWAGGER: ProtocolRoute = {
  access: "read",
  answer(target, endpoint, url) {
    const query = new URL(url, "http://pier").searchParams.get("version");
    const document = swaggerDocument(
      target,
      query,
      `${endpoint.name}/${target.name}`,
      `/endpoints/${endpoint.name}`,
    );
    return { status: document.status, body: JSON.stringify(document.body) };
  },
};

export const azure: ProtocolAdapter = {
  name: "score",
  match: (rest) => (rest === "score" ? SCORE : rest === "swagger.json" ? SWAGGER : undefined),
  parse(contentType, body, iface, paramNames) {
    requireJson(contentType);
    const text = body.toString("utf8");
    const { json, nonFinite } = parseBodyJson(text);
    const spec = iface.inputs;
    return batchOf(
      {
        shaped: shapeScoreBody(json, spec.kind === "columns" ? spec.columns : null),
        json,
        // Values cast from text ("nan" in a double column) can be non-finite too.
        nonFinite: nonFinite || /nan|inf/i.test(text),
      },
      iface,
      paramNames,
      "by-signature",
    );
  },
  format: (predictions) => predictions,
  renderError(e): ErrorResponse {
    return {
      status: e.status,
      body: JSON.stringify({
        error: { code: e.code, message: e.message, ...(e.extra.fix ? { fix: e.extra.fix } : {}) },
      }),
      headers: { ...e.headers, "x-pier-error-code": e.code },
    };
  },
  /**
   * x-ms-request-id, as Azure's inference server sets it on /score answers (routes.py, _init_headers):
   * the client's x-ms-request-id (deprecated), else its x-ms-client-request-id, else x-request-id.
   */
  answerHeaders(headers, ids) {
    const legacy = String(headers["x-ms-request-id"] ?? "")
      .replace(/[^A-Za-z0-9_-]/g, "")
      .slice(0, 100);
    return { "x-ms-request-id": legacy || ids["x-ms-client-request-id"] || ids["x-request-id"]! };
  },
};
