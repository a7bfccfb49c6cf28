/**
 * A scoring request made ready for its instance: the body parsed for the protocol and the model's
 * interface, and written as the instance reads it. Plain data in, plain data out, so that a large body
 * can be prepared on a worker thread (prepare-pool.ts) while the gateway's own thread serves others.
 */

import type { ModelInterface } from "../model/index.js";
import { stringifyJson } from "../shared/index.js";
import { asHttpError } from "./errors.js";
import { HttpError } from "./http-error.js";
import type { Protocol } from "./protocol.js";
import { parseRequest } from "./protocols/all.js";
import type { Batch, ParamNames } from "./shapes.js";

export interface PrepareJob {
  protocol: Protocol;
  contentType: string | undefined;
  body: Uint8Array;
  iface: ModelInterface;
  paramNames: ParamNames;
  /** The x-pier-predict-method header: which method of a Python model answers. */
  predictMethod: string | undefined;
  /** The deployment captures model inputs: keep them as JSON too. */
  captureInputs?: boolean;
}

/** What the gateway keeps of a prepared request: the text for the instance, and what the answer needs. */
export interface Prepared {
  text: string;
  rows: number;
  id?: string;
  outputs?: string[];
  ignoredParams?: string[];
  /** The model's inputs as JSON (as the instance gets them), when the job asked for them. */
  inputs?: string;
}

/** How a refusal crosses a thread: the HttpError's parts. */
export type PrepareOutcome =
  | { ok: true; prepared: Prepared }
  | {
      ok: false;
      error: {
        code: HttpError["code"];
        message: string;
        headers: Record<string, string>;
        extra: HttpError["extra"];
      };
    };

/** Which key of the request holds what the model takes: row objects, rows, or named tensors. */
const inputsKey = (request: Batch["request"]): "records" | "rows" | "tensors" =>
  "records" in request ? "records" : "rows" in request ? "rows" : "tensors";

/**
 * The request as the instance reads it, and, when the deployment captures model inputs, those inputs
 * as JSON too: written once and spliced into the request, so capture does not write them twice.
 */
function written(batch: Batch, captureInputs: boolean): { text: string; inputs?: string } {
  if (!captureInputs) return { text: stringifyJson(batch.request, batch.nonFinite) };
  const key = inputsKey(batch.request);
  const { [key]: value, ...rest } = batch.request as unknown as Record<string, unknown>;
  const inputs = stringifyJson(value, batch.nonFinite);
  const others = stringifyJson(rest, batch.nonFinite);
  return { text: `{"${key}":${inputs}${others === "{}" ? "}" : `,${others.slice(1)}`}`, inputs };
}

export function prepareRequest(job: PrepareJob): Prepared {
  const batch: Batch = parseRequest(
    job.protocol,
    job.contentType,
    Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength),
    job.iface,
    job.paramNames,
  );
  if (job.predictMethod) batch.request.predict_method = job.predictMethod;
  const { text, inputs } = written(batch, job.captureInputs === true);
  return {
    text,
    rows: batch.rows,
    ...(batch.id !== undefined ? { id: batch.id } : {}),
    ...(batch.request.outputs ? { outputs: batch.request.outputs } : {}),
    ...(batch.ignoredParams ? { ignoredParams: batch.ignoredParams } : {}),
    ...(inputs !== undefined ? { inputs } : {}),
  };
}

/** prepareRequest with its refusal as data (for the worker thread). */
export function prepareOutcome(job: PrepareJob): PrepareOutcome {
  try {
    return { ok: true, prepared: prepareRequest(job) };
  } catch (error) {
    const http = asHttpError(error);
    return {
      ok: false,
      error: { code: http.code, message: http.message, headers: http.headers, extra: http.extra },
    };
  }
}

export function outcomeValue(outcome: PrepareOutcome): Prepared {
  if (outcome.ok) return outcome.prepared;
  const { code, message, headers, extra } = outcome.error;
  throw new HttpError(code, message, headers, extra);
}
