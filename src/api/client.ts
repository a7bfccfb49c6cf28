/**
 * How CLI commands talk to a running `pier up`: its address from up.json, its token from the 0600
 * file, and one typed call per route of the contract (contract.ts), so no command builds a path.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgressEvent } from "../engine/index.js";
import { PierError, type PierErrorJson } from "../shared/index.js";
import type { BodyInput } from "./bodies.js";
import { type Answers, type ParamsOf, pathFor, type QueryOf, ROUTES, type RouteName } from "./contract.js";
import { API_TOKEN_FILE, UP_FILE, type UpInfo } from "./files.js";
import { type ScoreCall, scoreRequest } from "./scoring.js";

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

/** What a call of route K takes: its path's parameters, its query, and its body when it has one. */
export type CallInput<K extends RouteName> = ParamsOf<K> & {
  query?: QueryOf<K>;
} & (BodyInput<K> extends undefined ? { body?: undefined } : { body: BodyInput<K> });

type StreamRoute = { [K in RouteName]: (typeof ROUTES)[K] extends { stream: true } ? K : never }[RouteName];
type JsonRoute = Exclude<RouteName, StreamRoute>;

export interface ScoreAnswer {
  status: number;
  deployment: string | null;
  text: string;
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

  async #fetch<K extends RouteName>(name: K, input: CallInput<K>, signal?: AbortSignal): Promise<Response> {
    const { query, body, ...params } = input as { query?: QueryOf<K>; body?: unknown };
    const path = pathFor(name, params as ParamsOf<K>, query);
    try {
      return await fetch(`${this.info.url}/api/v1${path}`, {
        method: ROUTES[name].method,
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw notRunning(this.info.url, `cannot connect: ${(error as Error).message}`);
    }
  }

  /** Calls one route and returns its answer; an error answer is thrown as the PierError it carries. */
  async call<K extends JsonRoute>(name: K, input: CallInput<K>): Promise<Answers[K]> {
    const response = await this.#fetch(name, input);
    const payload = (await response.json()) as Answers[K] & { error?: PierErrorJson };
    // A success body may have an `error` field of its own (a Failed deployment): only the status decides.
    if (!response.ok)
      throw new PierError(payload.error ?? { code: "ApiError", summary: `HTTP ${response.status}` });
    return payload;
  }

  /** Calls a streaming route: its progress lines as they come, then its result (or its error, thrown). */
  async stream<K extends StreamRoute>(
    name: K,
    input: CallInput<K>,
    onProgress: (event: ProgressEvent) => void,
    signal?: AbortSignal,
  ): Promise<Answers[K]> {
    const response = await this.#fetch(name, input, signal);
    if (!response.ok || !response.body) {
      const payload = (await response.json()) as { error: PierErrorJson };
      throw new PierError(payload.error);
    }
    let buffer = "";
    let final: { result?: Answers[K]; error?: PierErrorJson } | undefined;
    for await (const chunk of response.body) {
      buffer += Buffer.from(chunk).toString("utf8");
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as {
          progress?: ProgressEvent;
          result?: Answers[K];
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
      throw new PierError({ code: "ApiError", summary: "pier up closed the stream without a result" });
    return final.result;
  }

  /** Scores `call.body` on an endpoint as a client would, with its credentials from the API. */
  async score(call: ScoreCall): Promise<ScoreAnswer> {
    const credentials = await this.call("endpoints.credentials", { endpoint: call.endpoint });
    const { path, headers } = scoreRequest(call, credentials);
    const response = await fetch(`${this.info.url}${path}`, { method: "POST", headers, body: call.body });
    return {
      status: response.status,
      deployment: response.headers.get("azureml-model-deployment"),
      text: await response.text(),
    };
  }
}
