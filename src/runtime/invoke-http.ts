/**
 * The HTTP way to an instance (POST /invoke on its port), for hosts without an invoke channel:
 * the Python host, whose worker processes share one listening socket.
 */
import { Pool } from "undici";
import type { InstanceClient, InvokeOutcome } from "./invoke-channel.js";

export class HttpInvokeClient implements InstanceClient {
  readonly #pool: Pool;

  constructor(port: number, connections: number) {
    this.#pool = new Pool(`http://127.0.0.1:${port}`, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
  }

  async invoke(body: string, timeoutMs: number): Promise<InvokeOutcome> {
    // undici's own timeouts tick coarsely; request_timeout_ms needs millisecond precision.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await this.#pool.request({
        path: "/invoke",
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: abort.signal,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      if (abort.signal.aborted) return { failure: "timeout" };
      const code = (error as { code?: string }).code;
      const timedOut = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
      return { failure: timedOut ? "timeout" : "connection" };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    void this.#pool.destroy().catch(() => {});
  }
}
