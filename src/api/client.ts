/** How CLI commands talk to a running `pier up`: its address from up.json, its token from the 0600 file. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgressEvent } from "../engine/index.js";
import { PierError, type PierErrorJson } from "../shared/index.js";
import { API_TOKEN_FILE, UP_FILE, type UpInfo } from "./files.js";

function notRunning(home: string, why: string): PierError {
  return new PierError({
    code: "PierNotRunning",
    summary: `pier up is not running for ${home} (${why})`,
    fix: "Start it in another terminal: pier up   (PIER_HOME picks the home folder)",
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class ApiClient {
  private constructor(
    readonly info: UpInfo,
    private readonly token: string,
  ) {}

  /** Finds the running pier up of `home`, or explains how to start it. */
  static connect(home: string): ApiClient {
    const upPath = join(home, UP_FILE);
    if (!existsSync(upPath)) throw notRunning(home, `no ${UP_FILE}`);
    const info = JSON.parse(readFileSync(upPath, "utf8")) as UpInfo;
    if (!alive(info.pid)) throw notRunning(home, `process ${info.pid} has exited`);
    return new ApiClient(info, readFileSync(join(home, API_TOKEN_FILE), "utf8").trim());
  }

  async #fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.info.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw notRunning(this.info.url, `cannot connect: ${(error as Error).message}`);
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(method, path, body);
    const payload = (await response.json()) as T & { error?: PierErrorJson };
    // A success body may have an `error` field of its own (a Failed deployment): only the status decides.
    if (!response.ok)
      throw new PierError(payload.error ?? { code: "ApiError", summary: `HTTP ${response.status}` });
    return payload;
  }

  /** POSTs and reads an NDJSON stream of progress lines ending in a result or an error. */
  async stream<T>(path: string, body: unknown, onProgress: (event: ProgressEvent) => void): Promise<T> {
    const response = await this.#fetch("POST", path, body);
    if (!response.ok || !response.body) {
      const payload = (await response.json()) as { error: PierErrorJson };
      throw new PierError(payload.error);
    }
    let buffer = "";
    let final: { result?: T; error?: PierErrorJson } | undefined;
    for await (const chunk of response.body) {
      buffer += Buffer.from(chunk).toString("utf8");
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as {
          progress?: ProgressEvent;
          result?: T;
          error?: PierErrorJson;
        };
        buffer = buffer.slice(newline + 1);
        if (line.progress) onProgress(line.progress);
        else final = line;
        newline = buffer.indexOf("\n");
      }
    }
    if (final?.error) throw new PierError(final.error);
    if (!final?.result)
      throw new PierError({
        code: "ApiError",
        summary: "pier up closed the stream without a result",
      });
    return final.result;
  }
}
