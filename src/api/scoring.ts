/**
 * A scoring request as a client sends it (Azure's /score, the key or token as a Bearer credential,
 * the deployment pinned by header when asked): one shape for every caller, whether it goes over a
 * socket (the CLI's ApiClient.score) or straight to pier's handler (a rollout's smoke requests).
 */
import type { Credentials } from "../engine/index.js";

export interface ScoreCall {
  endpoint: string;
  body: string | Buffer;
  /** Pins the deployment (azureml-model-deployment), even at 0 %. */
  deployment?: string;
  contentType?: string;
}

/** The credential a client presents: the primary key, or the token. */
export const bearerOf = (credentials: Credentials): string =>
  "primaryKey" in credentials ? credentials.primaryKey : credentials.accessToken;

/** The path and headers of a scoring request. */
export function scoreRequest(
  call: ScoreCall,
  credentials: Credentials,
): { path: string; headers: Record<string, string> } {
  return {
    path: `/endpoints/${encodeURIComponent(call.endpoint)}/score`,
    headers: {
      authorization: `Bearer ${bearerOf(credentials)}`,
      "content-type": call.contentType ?? "application/json",
      ...(call.deployment ? { "azureml-model-deployment": call.deployment } : {}),
    },
  };
}
