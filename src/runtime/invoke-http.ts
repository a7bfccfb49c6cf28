/**
 * The HTTP way to an instance (POST /invoke on its port), for hosts without an invoke channel:
 * the Python host, whose worker processes share one listening socket.
 */
import { Pool } from "undici";
import { INSTANCE_TOKEN_HEADER } from "./host-protocol.js";
import type { AnswerListener, InstanceClient, InvokeOutcome } from "./invoke-channel.js";

export class HttpInvokeClient implements InstanceClient {
  readonly #pool: Pool;

  lastAnswerAt = performance.now();
  /** Requests waiting for an answer, each with a way to stop waiting. */
  readonly #waiting = new Set<() => void>();

  constructor(
    port: number,
    connections: number,
    private readonly token: string,
    private readonly listener: AnswerListener = {},
  ) {
    this.#pool = new Pool(`http://127.0.0.1:${port}`, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
  }

  async invoke(body: string, timeoutMs: number): Promise<InvokeOutcome> {
    const started = performance.now();
    // A request past request_timeout_ms is answered 408 at once, but its connection stays busy, as the
    // instance does, until the answer comes (measured) or a hard limit ends it.
    const abort = new AbortController();
    const hardStop = setTimeout(() => abort.abort(), Math.max(60_000, 10 * timeoutMs));
    const request: Promise<InvokeOutcome> = this.#pool
      .request({
        path: "/invoke",
        method: "POST",
        headers: { "content-type": "application/json", [INSTANCE_TOKEN_HEADER]: this.token },
        body,
        signal: abort.signal,
      })
      .then(async (response) => {
        const text = await response.body.text();
        this.lastAnswerAt = performance.now();
        this.listener.onAnswer?.();
        return { status: response.statusCode, text };
      })
      .catch((): InvokeOutcome => ({ failure: abort.signal.aborted ? "timeout" : "connection" }))
      .finally(() => clearTimeout(hardStop));
    let timer: NodeJS.Timeout | undefined;
    let stopWaiting = () => {};
    const deadline = new Promise<"timeout" | "abandoned">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      stopWaiting = () => resolve("abandoned");
    });
    this.#waiting.add(stopWaiting);
    const first = await Promise.race([request, deadline]);
    this.#waiting.delete(stopWaiting);
    clearTimeout(timer);
    if (first !== "timeout" && first !== "abandoned") return first;
    if (first === "abandoned") return { failure: "connection" };
    void request.then((late) => {
      if ("status" in late) this.listener.onLate?.(performance.now() - started);
    });
    return { failure: "timeout" };
  }

  abandon(): void {
    for (const stop of [...this.#waiting]) stop();
  }

  close(): void {
    void this.#pool.destroy().catch(() => {});
  }
}
