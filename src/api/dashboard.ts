/**
 * The dashboard's server side: a one-time login link (printed by `pier up`, or made with the API
 * token) that opens an HttpOnly, SameSite=Strict session cookie and leaves no secret in the URL;
 * the bundled page and its assets (dist/web, built from web/), only for a session; the monitoring
 * report for a frame; and the rule by which a session may call the management API: reads freely,
 * changes only with the x-pier-csrf header a cross-site form cannot send, and from this origin.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { secretsEqual } from "../engine/index.js";
import { type Monitoring, parseDuration, reportHtml } from "../monitor/index.js";

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

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#0f172a}code{background:#f1f5f9;padding:2px 5px;border-radius:4px}</style></head><body><h1>${title}</h1>${body}</body></html>`;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS }).end(html);
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

  #session(req: IncomingMessage): boolean {
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
  allowsApi(req: IncomingMessage): boolean {
    if (!this.#session(req)) return false;
    if (req.method === "GET" || req.method === "HEAD") return true;
    const origin = req.headers.origin;
    return req.headers["x-pier-csrf"] === "1" && (origin === undefined || origin === this.origin());
  }

  /** Serves /dashboard…; false for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== "/dashboard" && !url.pathname.startsWith("/dashboard/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      page(res, 405, "Method not allowed", "<p>The dashboard's pages are read with GET.</p>");
      return true;
    }
    if (url.pathname === "/dashboard/login") {
      const code = url.searchParams.get("code") ?? "";
      let found: string | undefined;
      for (const [known, expires] of this.#links) {
        if (expires < Date.now()) this.#links.delete(known);
        else if (secretsEqual(code, known)) found = known;
      }
      if (!found) {
        page(
          res,
          401,
          "This login link is used or expired",
          "<p>Each link opens one session. Run <code>pier dashboard</code> for a new one.</p>",
        );
        return true;
      }
      this.#links.delete(found);
      const id = randomBytes(32).toString("base64url");
      this.#sessions.set(id, Date.now() + SESSION_MS);
      res
        .writeHead(303, {
          location: "/dashboard/",
          "set-cookie": `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}`,
          ...PAGE_HEADERS,
        })
        .end();
      return true;
    }
    if (!this.#session(req)) {
      page(
        res,
        401,
        "Sign in to pier's dashboard",
        "<p>Open the login link <code>pier up</code> printed when it started, or run <code>pier dashboard</code> for a new one.</p>",
      );
      return true;
    }
    const report = /^\/dashboard\/report\/([^/]+)$/.exec(url.pathname);
    if (report) {
      const endpoint = decodeURIComponent(report[1]!);
      const since = url.searchParams.get("since") ?? "1h";
      const now = Date.now();
      const html = reportHtml(await this.monitoring.report(endpoint, now - parseDuration(since), now));
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS }).end(html);
      return true;
    }
    const name =
      url.pathname === "/dashboard" || url.pathname === "/dashboard/"
        ? "index.html"
        : url.pathname.slice("/dashboard/".length);
    const type = name === "index.html" ? "text/html; charset=utf-8" : ASSETS[name];
    if (!type) {
      page(
        res,
        404,
        "Not found",
        `<p>No page ${name.replace(/[^\w./-]/g, "")}. <a href="/dashboard/">The dashboard</a>.</p>`,
      );
      return true;
    }
    let body: Buffer;
    try {
      body = readFileSync(new URL(name, WEB));
    } catch {
      page(
        res,
        500,
        "The dashboard is not built",
        "<p>Run <code>npm run build</code> in the pier folder.</p>",
      );
      return true;
    }
    res.writeHead(200, { "content-type": type, "content-length": body.length, ...PAGE_HEADERS }).end(body);
    return true;
  }
}
