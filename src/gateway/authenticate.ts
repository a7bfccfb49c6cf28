/**
 * Who may score: `Authorization: Bearer <key>` (either of the endpoint's two keys, compared in
 * constant time) or, for aml_token endpoints, a signed token that has not expired.
 */
import { type EndpointRoute, type Routing, secretsEqual } from "../engine/index.js";
import { HttpError } from "./http-error.js";

/** Throws 401 unless the header carries a credential the endpoint accepts. */
export function authenticate(
  authorization: string | undefined,
  endpoint: EndpointRoute,
  verifyToken: Routing["verifyToken"],
): void {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
  if (!match)
    throw new HttpError("Unauthorized", "Missing 'Authorization: Bearer <key or token>' header", {
      "www-authenticate": "Bearer",
    });
  const credential = match[1]!.trim();
  if (endpoint.authMode === "aml_token") {
    const verdict = verifyToken(credential, endpoint.name);
    if (verdict !== "ok")
      throw new HttpError(
        "Unauthorized",
        verdict === "expired"
          ? "The token has expired; get a new one with `pier endpoint get-credentials`"
          : "The token is not valid for this endpoint",
      );
    return;
  }
  // Both keys are compared, whichever matches, so the time taken says nothing about which.
  const primary = secretsEqual(credential, endpoint.keys[0]);
  const secondary = secretsEqual(credential, endpoint.keys[1]);
  if (!primary && !secondary)
    throw new HttpError("Unauthorized", "key_auth_access_denied: the key is not valid for this endpoint");
}
