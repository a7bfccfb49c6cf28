/**
 * The protocol between pier and an instance process ("container"). The host writes one JSON
 * message per line on file descriptor 3: `ready` once the model is loaded and its HTTP server
 * listens, or `load-failed` with the exception before it exits with LOAD_FAILED_EXIT_CODE.
 * Then pier probes GET / on 127.0.0.1:<port> and sends requests over the host's invoke channel
 * (invoke-channel.ts) when `ready` says it serves one, or as POST /invoke on the port otherwise.
 */

export const HOST_MESSAGE_FD = 3;

/** Exit code of a host whose model failed to load (Azure's inference server uses 3 too). */
export const LOAD_FAILED_EXIT_CODE = 3;

/** Why a host could not load its model: the exception, and the module an import could not find. */
export interface HostLoadError {
  type: string;
  message: string;
  traceback: string[];
  module?: string;
}

export type HostMessage =
  | { type: "ready"; port: number; loadMs: number; runtime: string; channel?: boolean }
  | { type: "load-failed"; error: HostLoadError };

/** Body of POST /invoke: column records checked against the signature, or positional rows for a model without one. */
export type InvokeRequest = ({ records: Record<string, unknown>[] } | { rows: unknown[][] }) & {
  params?: Record<string, unknown>;
};

/** Body of a 200 from POST /invoke: one prediction row per record. */
export type InvokeResponse = unknown[];

/** Error body of the host; `kind: "input"` maps to 400, anything else to a model error (424). */
export interface HostErrorBody {
  error: { code: string; message: string; kind: "input" | "model" };
}

export function parseHostMessage(line: string): HostMessage | undefined {
  try {
    const value = JSON.parse(line) as HostMessage;
    return value && (value.type === "ready" || value.type === "load-failed") ? value : undefined;
  } catch {
    return undefined;
  }
}
