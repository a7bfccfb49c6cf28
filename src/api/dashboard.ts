/**
 * The dashboard's server side: a one-time login link (printed by `pier up`, or made with the API
 * token) that opens an HttpOnly, SameSite=Strict session cookie and leaves no secret in the URL;
 * the bundled page and its assets (dist/web, built from web/), only for a session; the monitoring
 * report for a frame; and the rule by which a session may call the management API: reads freely,
 * changes only with the x-pier-csrf header a cross-site form cannot send, and from this origin.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { secretsEqual } from "../engine/index.js";
import { type Monitoring, parseDuration, reportHtml } from "../monitor/index.js";
import { decodePathSegment, type PierRequest, type PierResponse, pathOf, queryOf } from "../shared/index.js";

const SESSION_COOKIE = "pier_session";
const SESSION_MS = 12 * 3_600_000;
const LINK_MS = 15 * 60_000;
const WEB = new URL("../../web/", import.meta.url);

const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/** What a page of the dashboard may load and do: only this origin, nothing inline but styles. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function cookieOf(req: PierRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function page(status: number, title: string, body: string): PierResponse {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#0f172a}code{background:#f1f5f9;padding:2px 5px;border-radius:4px}</style></head><body><h1>${title}</h1>${body}</body></html>`;
  return { status, headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS }, body: html };
}

export class Dashboard {
  readonly #sessions = new Map<string, number>();
  readonly #links = new Map<string, number>();

  constructor(
    readonly origin: () => string,
    readonly monitoring: Monitoring,
  ) {}

  /** A one-time link that opens a session (valid for 15 minutes). */
  loginLink(): string {
    const code = randomBytes(24).toString("base64url");
    this.#links.set(code, Date.now() + LINK_MS);
    return `${this.origin()}/dashboard/login?code=${code}`;
  }

  #session(req: PierRequest): boolean {
    const id = cookieOf(req, SESSION_COOKIE);
    if (!id) return false;
    for (const [known, expires] of this.#sessions) {
      if (expires < Date.now()) {
        this.#sessions.delete(known);
        continue;
      }
      if (secretsEqual(id, known)) return true;
    }
    return false;
  }

  /**
   * Whether a session may make this management API call: any read; a change only with the
   * x-pier-csrf header and, when the browser says where it comes from, from this origin.
   */
  allowsApi(req: PierRequest): boolean {
    if (!this.#session(req)) return false;
    if (req.method === "GET" || req.method === "HEAD") return true;
    const origin = req.headers.origin;
    return req.headers["x-pier-csrf"] === "1" && (origin === undefined || origin === this.origin());
  }

  /** Serves /dashboard…; undefined for other paths. */
  async handle(req: PierRequest): Promise<PierResponse | undefined> {
    const path = pathOf(req.url);
    if (path !== "/dashboard" && !path.startsWith("/dashboard/")) return undefined;
    if (req.method !== "GET" && req.method !== "HEAD")
      return page(405, "Method not allowed", "<p>The dashboard's pages are read with GET.</p>");
    const query = queryOf(req.url);
    if (path === "/dashboard/login") {
      const code = query.get("code") ?? "";
      let found: string | undefined;
      for (const [known, expires] of this.#links) {
        if (expires < Date.now()) this.#links.delete(known);
        else if (secretsEqual(code, known)) found = known;
      }
      if (!found)
        return page(
          401,
          "This login link is used or expired",
          "<p>Each link opens one session. Run <code>pier dashboard</code> for a new one.</p>",
        );
      this.#links.delete(found);
      const id = randomBytes(32).toString("base64url");
      this.#sessions.set(id, Date.now() + SESSION_MS);
      return {
        status: 303,
        headers: {
          location: "/dashboard/",
          "set-cookie": `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}`,
          ...PAGE_HEADERS,
        },
      };
    }
    if (!this.#session(req))
      return page(
        401,
        "Sign in to pier's dashboard",
        "<p>Open the login link <code>pier up</code> printed when it started, or run <code>pier dashboard</code> for a new one.</p>",
      );
    const report = /^\/dashboard\/report\/([^/]+)$/.exec(path);
    if (report) {
      const endpoint = decodePathSegment(report[1]!);
      const since = query.get("since") ?? "1h";
      const now = Date.now();
      const html = reportHtml(await this.monitoring.report(endpoint, now - parseDuration(since), now));
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS },
        body: html,
      };
    }
    const name =
      path === "/dashboard" || path === "/dashboard/" ? "index.html" : path.slice("/dashboard/".length);
    const type = name === "index.html" ? "text/html; charset=utf-8" : ASSETS[name];
    if (!type)
      return page(
        404,
        "Not found",
        `<p>No page ${name.replace(/[^\w./-]/g, "")}. <a href="/dashboard/">The dashboard</a>.</p>`,
      );
    let body: Buffer;
    try {
      body = readFileSync(new URL(name, WEB));
    } catch {
      return page(
        500,
        "The dashboard is not built",
        "<p>Run <code>npm run build</code> in the pier folder.</p>",
      );
    }
    return {
      status: 200,
      headers: { "content-type": type, "content-length": body.length, ...PAGE_HEADERS },
      body,
    };
  }
}
