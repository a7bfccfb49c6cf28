/**
 * The management API from the page: the session cookie goes along (same origin), and every change
 * carries the x-pier-csrf header the server requires of a session, which a cross-site form cannot send.
 */
import type { ApiError } from "./types";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiError,
  ) {
    super(`${error.code}: ${error.summary}`);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
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
      summary: text.slice(0, 200),
    };
    if (response.status === 401) location.reload();
    throw new ApiFailure(response.status, error);
  }
  return value as T;
}

export const api = {
  get: <T>(path: string) => call<T>("GET", path),
  post: <T>(path: string, body: unknown = {}) => call<T>("POST", path, body),
  patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, body),
};

export const enc = encodeURIComponent;
