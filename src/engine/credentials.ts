/**
 * Endpoint credentials: two keys per endpoint (compared in constant time), and aml_token tokens,
 * HMAC-signed with a per-home secret kept in a 0600 file, that expire.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const TOKEN_LIFETIME_SECONDS = 3600;

/** "ok", or why a token is refused. */
export type TokenVerdict = "ok" | "malformed" | "expired" | "wrong-endpoint";

export function generateKey(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares two secrets without leaking, through timing, how much of them matched. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

export class TokenSigner {
  readonly #secret: Buffer;

  constructor(home: string) {
    const path = join(home, "token-signing.key");
    if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    this.#secret = Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  }

  issue(
    endpoint: string,
    now = Date.now(),
  ): { accessToken: string; expiryTimeUtc: number; refreshAfterTimeUtc: number; tokenType: string } {
    const expiry = Math.floor(now / 1000) + TOKEN_LIFETIME_SECONDS;
    const payload = Buffer.from(JSON.stringify({ ep: endpoint, exp: expiry })).toString("base64url");
    const signature = createHmac("sha256", this.#secret).update(payload).digest("base64url");
    return {
      accessToken: `${payload}.${signature}`,
      expiryTimeUtc: expiry,
      refreshAfterTimeUtc: expiry - TOKEN_LIFETIME_SECONDS / 2,
      tokenType: "Bearer",
    };
  }

  /** "ok", or why the token is refused. */
  verify(token: string, endpoint: string, now = Date.now()): TokenVerdict {
    const [payload, signature] = token.split(".");
    if (!payload || !signature) return "malformed";
    const expected = createHmac("sha256", this.#secret).update(payload).digest("base64url");
    if (!secretsEqual(signature, expected)) return "malformed";
    let claims: { ep?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
        ep?: unknown;
        exp?: unknown;
      };
    } catch {
      return "malformed";
    }
    if (!claims || typeof claims.exp !== "number") return "malformed";
    if (claims.ep !== endpoint) return "wrong-endpoint";
    return claims.exp * 1000 <= now ? "expired" : "ok";
  }
}
