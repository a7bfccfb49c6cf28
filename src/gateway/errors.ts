/**
 * An error as each route's protocol answers it, so that clients written for that protocol can read
 * it (pier's own code always rides along in the x-pier-error-code header):
 * - /score (Azure): {"error": {"code", "message", "fix"?}};
 * - /invocations (MLflow's scoring server): {"error_code", "message", "stack_trace"?}, the codes of
 *   mlflow/protos/databricks_pb2 and their HTTP statuses (mlflow/exceptions.py), 415 as text/plain,
 *   and a model's own exception as 400 BAD_REQUEST with its stack trace
 *   (mlflow/pyfunc/scoring_server/__init__.py, invocations(): "Encountered an unexpected error while
 *   evaluating the model…");
 * - v2 (Open Inference Protocol): {"error": "<message>"}.
 */
import { PierError } from "../shared/index.js";
import type { Protocol } from "./formats.js";
import { HttpError } from "./http-error.js";

/**
 * Anything thrown while handling a request, as the HttpError the client gets. pier's own failure
 * says only that (its message, code and paths go to the log, through `log`).
 */
export function asHttpError(error: unknown, log?: (error: unknown) => void): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PierError && error.class === "user")
    return new HttpError(error.code, error.summary, {}, error.fix ? { fix: error.fix } : {});
  if (error instanceof PierError && error.class === "system" && error.code !== "InternalError")
    return new HttpError(error.code, error.summary);
  log?.(error);
  return new HttpError(
    "InternalError",
    "pier failed while handling this request; pier up's log has the error",
  );
}

/** MLflow's error code for each status pier answers with. */
const MLFLOW_CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "ENDPOINT_NOT_FOUND",
  405: "BAD_REQUEST",
  408: "DEADLINE_EXCEEDED",
  409: "RESOURCE_CONFLICT",
  413: "BAD_REQUEST",
  429: "REQUEST_LIMIT_EXCEEDED",
  503: "TEMPORARILY_UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Schema enforcement failures: MLflow raises them as INVALID_PARAMETER_VALUE (mlflow/models/utils.py, _enforce_schema). */
const SCHEMA_CODES = new Set([
  "MissingInputs",
  "IncompatibleInputTypes",
  "InputShapeMismatch",
  "InputTypeMismatch",
]);

export interface ErrorResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** The error as `protocol` answers it. */
export function renderError(protocol: Protocol | "other", e: HttpError): ErrorResponse {
  const headers = { ...e.headers, "x-pier-error-code": e.code };
  if (protocol === "invocations") {
    if (e.status === 415)
      return { status: 415, body: e.message, headers: { ...headers, "content-type": "text/plain" } };
    if (e.code === "ModelError") {
      return {
        status: 400,
        body: JSON.stringify({
          error_code: "BAD_REQUEST",
          message:
            "Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.",
          stack_trace: e.extra.trace ?? e.message,
        }),
        headers,
      };
    }
    const schema = SCHEMA_CODES.has(e.code);
    return {
      status: e.status,
      body: JSON.stringify({
        error_code: schema ? "INVALID_PARAMETER_VALUE" : (MLFLOW_CODES[e.status] ?? "INTERNAL_ERROR"),
        message: schema
          ? `Failed to predict data. \nError: Failed to enforce schema of data with the model's input schema. Error: ${e.message}`
          : e.message,
      }),
      headers,
    };
  }
  if (protocol === "v2") return { status: e.status, body: JSON.stringify({ error: e.message }), headers };
  return {
    status: e.status,
    body: JSON.stringify({
      error: { code: e.code, message: e.message, ...(e.extra.fix ? { fix: e.extra.fix } : {}) },
    }),
    headers,
  };
}
