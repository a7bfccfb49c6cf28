/**
 * The management API from the page, one typed call per route of the server's contract
 * (src/api/contract.ts): the session cookie goes along (same origin), and every change carries the
 * x-pier-csrf header the server requires of a session, which a cross-site form cannot send.
 */
import {
  type Answers,
  type ParamsOf,
  pathFor,
  type QueryOf,
  ROUTES,
  type RouteName,
} from "../src/api/contract.js";
import type { ApiError } from "./types";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiError,
  ) {
    super(`${error.code}: ${error.summary}`);
  }
}

/** A route's path parameters, its query, and its body. */
type Input<K extends RouteName> = ParamsOf<K> & { query?: QueryOf<K>; body?: unknown };

/** Calls one route of the management API and returns its answer. */
export async function call<K extends RouteName>(name: K, input: Input<K>): Promise<Answers[K]> {
  const { query, body, ...params } = input as { query?: QueryOf<K>; body?: unknown };
  const method = ROUTES[name].method;
  const response = await fetch(`/api/v1${pathFor(name, params as ParamsOf<K>, query)}`, {
    method,
    credentials: "same-origin",
    headers: {
      ...(method === "GET" ? {} : { "x-pier-csrf": "1" }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const value = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (value as { error?: ApiError } | undefined)?.error ?? {
      code: `HTTP${response.status}`,
      class: "system",
      summary: text.slice(0, 200),
      details: [],
    };
    if (response.status === 401) location.reload();
    throw new ApiFailure(response.status, error as ApiError);
  }
  return value as Answers[K];
}
