/**
 * Endpoint credentials: two keys per endpoint (compared in constant time), and aml_token tokens,
 * HMAC-signed with a per-home secret kept in a 0600 file, that expire; keys sealed at rest (KeyBox).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
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

/** A 32-byte secret in a 0600 file of the home, made on first use. */
function homeSecret(home: string, file: string): Buffer {
  const path = join(home, file);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process made it first: read theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
}

const SEALED = "sealed1:";

/**
 * Endpoint keys as pier.db keeps them: AES-256-GCM with a key in a 0600 file beside it, so that a copy
 * of the database alone does not reveal them. A value without the prefix is a key stored before
 * (plain), read as it is and sealed at the next write.
 */
export class KeyBox {
  readonly #key: Buffer;

  constructor(home: string) {
    this.#key = homeSecret(home, "key-encryption.key");
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `${SEALED}${Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64")}`;
  }

  open(stored: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    const raw = Buffer.from(stored.slice(SEALED.length), "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  }

  isSealed = (stored: string): boolean => stored.startsWith(SEALED);
}

export class TokenSigner {
  readonly #secret: Buffer;

  constructor(home: string) {
    this.#secret = homeSecret(home, "token-signing.key");
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
