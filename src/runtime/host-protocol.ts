/**
 * The protocol between pier and an instance process ("container"). The host writes one JSON
 * message per line on file descriptor 3: `ready` once the model is loaded and its HTTP server
 * listens, or `load-failed` with the exception before it exits with LOAD_FAILED_EXIT_CODE.
 * Then pier probes GET / on 127.0.0.1:<port> and sends requests over the host's invoke channel
 * (invoke-channel.ts) when `ready` says it serves one, or as POST /invoke on the port otherwise.
 */

import type { ModelRequest } from "../model/index.js";
import { type Code, isCode } from "../shared/index.js";

export const HOST_MESSAGE_FD = 3;

/**
 * The header every HTTP request to an instance carries (probes, /invoke): the secret pier put in the
 * process's environment as PIER_INSTANCE_TOKEN. Without it the host answers 403, so another local user
 * who finds the port cannot score around the gateway.
 */
export const INSTANCE_TOKEN_HEADER = "x-pier-instance-token";

/** Exit code of a host whose model failed to load (Azure's inference server uses 3 too). */
export const LOAD_FAILED_EXIT_CODE = 3;

/** Why a host could not load its model: the exception, and the module an import could not find. */
export interface HostLoadError {
  type: string;
  message: string;
  traceback: string[];
  module?: string;
  /**
   * What kind of failure the host saw (python/pier_host.py, classify): a compiled package built for
   * another numpy major version, a pickle naming a class or module this interpreter lacks, or an
   * unpickled model lacking an attribute its library's code now reads (made by another version).
   */
  cause?: "numpy-abi" | "unpickling" | "stale-object";
}

/**
 * What a scoring script's host knows for swagger.json: the schemas of an @input_schema/@output_schema
 * run() (or empty objects), the swagger versions they can be written in, and swagger files found in
 * the script's folder, by version ("2", "3", "3.1").
 */
export interface ScriptSwagger {
  input: unknown;
  output: unknown;
  versions: string[];
  files: Record<string, unknown>;
}

export type HostMessage =
  | {
      type: "ready";
      port: number;
      loadMs: number;
      runtime: string;
      channel?: boolean;
      swagger?: ScriptSwagger;
    }
  | { type: "load-failed"; error: HostLoadError }
  /** From an instance forked by a warm interpreter (warm-python.ts), first: its own pid, not the shim's. */
  | { type: "forked"; pid: number };

/** A request to a scoring script, as the gateway sends it: the HTTP request, its body in base64. */
export interface ScriptRequest {
  method: string;
  query: string;
  headers: [string, string][];
  body: string;
}

/** A scoring script's answer, as Azure's inference server would send it: status, headers, body in base64. */
export interface ScriptResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/**
 * How an answer made of output tensors is shaped, by the protocol the request came in:
 * - records: one object per row ({output: value}), as MLflow answers a DataFrame;
 * - tensors: {output: nested list} for every output, as MLflow answers a dict or an ndarray;
 * - score: Azure's /score: the nested list itself for one output, {output: nested list} for several;
 * - v2: the Open Inference Protocol's list of {name, datatype, shape, data}.
 * Hosts whose models return other values (the Python host) answer with them as they are.
 */
export type AnswerView = "records" | "tensors" | "score" | "v2";

/**
 * Body of POST /invoke: a request as the model takes it (model/requests.ts), with MLflow params,
 * the answer's view, the outputs to return (all when absent) and, for scikit-learn models, the
 * method to call (pier's opt-in x-pier-predict-method header).
 */
export type InvokeRequest = ModelRequest & {
  params?: Record<string, unknown>;
  view?: AnswerView;
  outputs?: string[];
  predict_method?: string;
};

/**
 * What a host could tell of a model's failure on one request, as data the doctor reads: its code, the
 * exception the model raised, and, for an answer JSON cannot hold, the value's type and what turns it
 * into one that it can.
 */
export interface ModelFailure {
  code: Code;
  exception?: string;
  /** UnserializableOutput: the value's Python type ("numpy.ndarray") and the remedy ("call .tolist() on it"). */
  type?: string;
  hint?: string;
}

/** Error body of the host; `kind: "input"` maps to 400, anything else to a model error, with its stack trace. */
export interface HostErrorBody {
  error: { code: Code; message: string; kind: "input" | "model"; trace?: string } & Omit<
    ModelFailure,
    "code"
  >;
}

/** The header a scoring script's answer carries when the host knows why it failed (a ModelFailure as JSON); never passed to the client. */
export const FAILURE_HEADER = "x-pier-failure";

/** A FAILURE_HEADER's value, when it is one pier can read. */
export function parseFailure(value: unknown): ModelFailure | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const failure = JSON.parse(value) as ModelFailure;
    return isCode(failure?.code) ? failure : undefined;
  } catch {
    return undefined;
  }
}

export function parseHostMessage(line: string): HostMessage | undefined {
  try {
    const value = JSON.parse(line) as HostMessage;
    if (value?.type === "forked") return Number.isInteger(value.pid) && value.pid > 0 ? value : undefined;
    return value && (value.type === "ready" || value.type === "load-failed") ? value : undefined;
  } catch {
    return undefined;
  }
}
