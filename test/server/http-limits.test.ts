/**
 * The socket's bounds, tried as a careless or hostile client would, on raw TCP so that nothing cleans
 * up what is sent: a body declared past the limit is a 413 at once, a real one too (not a reset); slow
 * headers and slow bodies are 408 within their deadline; a client that goes away mid-body is a 499,
 * not pier's 500; CONNECT is a 405; connections past a cap are 429; a Host that is not pier's is
 * refused for the dashboard, /metrics and the management API; a stop closes idle keep-alive
 * connections and tells open ones `Connection: close`; a pipeline's FIFO and an export into /proc are
 * refused before they are opened.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPier, hostAllowed, type Pier } from "../../src/app/index.js";
import { parseEndpointSpec } from "../../src/config/index.js";
import { waitFor } from "../helpers.js";

interface Served {
  pier: Pier;
  port: number;
  key: string;
}

async function serve(t: { after(fn: () => unknown): void }): Promise<Served> {
  const home = mkdtempSync(join(tmpdir(), "pier-http-"));
  const pier = createPier({
    home,
    http: { headerTimeoutMs: 1000, bodyTimeoutMs: 1500, maxConnections: 40, maxConnectionsPerClient: 30 },
    allowedHosts: ["pier.internal"],
  });
  t.after(async () => {
    await pier.close();
    rmSync(home, { recursive: true, force: true });
  });
  await pier.listen(0);
  pier.engine.endpoints.create(parseEndpointSpec({ name: "fin", auth_mode: "key" }, "test"));
  const credentials = pier.engine.endpoints.credentials("fin") as { primaryKey: string };
  return { pier, port: Number(new URL(pier.url!).port), key: credentials.primaryKey };
}

/** A raw connection: what it sends, and everything the server wrote until it closed (or `untilText`). */
function raw(port: number): {
  socket: Socket;
  text: () => string;
  closed: Promise<{ text: string; reset: boolean; ms: number }>;
} {
  const began = performance.now();
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let reset = false;
  socket.on("data", (chunk) => {
    text += chunk.toString("latin1");
  });
  socket.on("error", () => {
    reset = true;
  });
  const closed = new Promise<{ text: string; reset: boolean; ms: number }>((resolve) =>
    socket.on("close", () => resolve({ text, reset, ms: performance.now() - began })),
  );
  return { socket, text: () => text, closed };
}

/** The final status of what the server wrote (a 100 Continue before it is skipped). */
const statusOf = (text: string) =>
  Number(/^HTTP\/1\.1 (\d{3})/.exec(text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ""))?.[1] ?? 0);

test("a body declared past the limit is answered 413 at once, before it is sent, and the connection closes", async (t) => {
  const { pier, port, key } = await serve(t);
  for (const [path, token] of [
    ["/endpoints/fin/score", key],
    ["/api/v1/endpoints", pier.token],
  ]) {
    const c = raw(port);
    c.socket.write(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${100 * 2 ** 20}\r\n\r\n{"a": 1}`,
    );
    // The answer comes while the client has sent 10 of 100 MiB: it did not wait for the rest.
    await waitFor(() => statusOf(c.text()) !== 0, `an answer on ${path}`, 5000);
    assert.equal(statusOf(c.text()), 413, c.text());
    assert.match(c.text(), /PayloadTooLarge/);
    assert.match(c.text(), /connection: close/i);
    const closed = await c.closed;
    assert.ok(closed.ms < 10_000, `closed after ${closed.ms} ms`);
  }
});

test("a real body far past the limit gets its 413, not a reset connection", async (t) => {
  const { pier, key } = await serve(t);
  const body = Buffer.alloc(80 * 2 ** 20, 0x20);
  const response = await fetch(`${pier.url}/endpoints/fin/score`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
  });
  assert.equal(response.status, 413);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "PayloadTooLarge");
  // Chunked (no Content-Length): refused as soon as it grows past the limit.
  const chunked = await fetch(`${pier.url}/api/v1/endpoints`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${pier.token}` },
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(2 ** 20));
        controller.close();
      },
    }),
    duplex: "half",
  } as RequestInit);
  assert.equal(chunked.status, 413);
});

test("slow headers and slow bodies are 408 within their deadline; a client gone mid-body is a 499", async (t) => {
  const { pier, port, key } = await serve(t);
  const headers = raw(port);
  headers.socket.write("POST /endpoints/fin/score HTTP/1.1\r\nhost: 127.0.0.1\r\n");
  const slowHeaders = await headers.closed;
  assert.equal(statusOf(slowHeaders.text), 408, slowHeaders.text);
  assert.match(slowHeaders.text, /RequestTimeout/);

  const body = raw(port);
  body.socket.write(
    `POST /endpoints/fin/score HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\ncontent-length: 1000\r\n\r\n{"input`,
  );
  await waitFor(() => statusOf(body.text()) !== 0, "an answer to the slow body", 10_000);
  assert.equal(statusOf(body.text()), 408, body.text());
  assert.match(body.text(), /did not arrive within 1.5 s \(7 bytes came of 1000 declared\)/);
  body.socket.destroy();

  const gone = raw(port);
  gone.socket.write(
    `POST /endpoints/fin/score HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n`,
  );
  // 100 Continue: pier took the request and reads its body.
  await waitFor(() => gone.text().includes("100 Continue"), "100 Continue");
  gone.socket.write('{"in');
  const metricLine = /pier_requests_total\{endpoint="fin",deployment="none",status="499"\} (\d+)/;
  gone.socket.destroy();
  const metrics = await waitFor(async () => {
    const text = await (await pier.fetch("/metrics")).text();
    return metricLine.test(text) ? text : undefined;
  }, "a 499 in pier_requests_total");
  assert.equal(metricLine.exec(metrics)?.[1], "1");
  assert.doesNotMatch(metrics, /status="500"/);
});

test("CONNECT is a 405, an unknown method a 400, and connections past the cap a 429", async (t) => {
  const { port } = await serve(t);
  const tunnel = raw(port);
  tunnel.socket.write("CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
  const answered = await tunnel.closed;
  assert.equal(statusOf(answered.text), 405, answered.text);
  assert.match(answered.text, /not a proxy/);

  const unknown = raw(port);
  unknown.socket.write("BREW /pot HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  assert.equal(statusOf((await unknown.closed).text), 400);

  const held = Array.from({ length: 30 }, () => raw(port));
  t.after(() => {
    for (const c of held) c.socket.destroy();
  });
  await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once("connect", resolve))));
  const refused = raw(port);
  const over = await refused.closed;
  assert.equal(statusOf(over.text), 429, over.text);
  assert.match(over.text, /TooManyConnections/);
  assert.match(over.text, /max-connections-per-client 30/);
  // One closes, and the next is served again.
  held.pop()!.socket.destroy();
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null))?.status === 200,
    "a connection taken again",
  );
});

test("the dashboard, /metrics and the management API answer only for pier's own Host names", async (t) => {
  const { pier, port, key } = await serve(t);
  const get = (path: string, host: string) =>
    new Promise<number>((resolve) => {
      const c = raw(port);
      c.socket.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
      void c.closed.then(({ text }) => resolve(statusOf(text)));
    });
  for (const path of ["/metrics", "/dashboard", "/api/v1/endpoints"]) {
    assert.equal(await get(path, "attacker.example:80"), 403, path);
    assert.equal(await get(path, `rebind.attacker.example:${port}`), 403, path);
  }
  assert.equal(await get("/metrics", `127.0.0.1:${port}`), 200);
  assert.equal(await get("/metrics", `localhost:${port}`), 200);
  assert.equal(await get("/metrics", "pier.internal"), 200);
  // Scoring carries its own key and answers whatever the Host.
  const scored = await fetch(`${pier.url}/endpoints/fin/score`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, host: "scoring.example" },
    body: "{}",
  });
  assert.notEqual(scored.status, 403);
  assert.equal(hostAllowed("[::1]:8700", new Set(["[::1]"])), true);
  assert.equal(hostAllowed("LOCALHOST:8700", new Set(["localhost"])), true);
  assert.equal(hostAllowed("localhost.attacker.example", new Set(["localhost"])), false);
});

test("a stop closes idle keep-alive connections at once and answers Connection: close on open ones", async (t) => {
  const home = mkdtempSync(join(tmpdir(), "pier-http-stop-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const pier = createPier({ home });
  await pier.listen(0);
  const port = Number(new URL(pier.url!).port);
  const idle = raw(port);
  idle.socket.write("GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  await waitFor(() => statusOf(idle.text()) === 200, "the idle connection's first answer");
  assert.doesNotMatch(idle.text(), /connection: close/i);
  // A request in flight on another connection: its body is still coming when the stop begins.
  const open = raw(port);
  const body = '{"spec":{"name":"late","auth_mode":"key"},"source":"test"}';
  open.socket.write(
    `POST /api/v1/endpoints HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${pier.token}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`,
  );
  await waitFor(() => open.text().includes("100 Continue"), "the open request taken");
  const closing = pier.close({ graceMs: 10_000 });
  const closedIdle = await idle.closed;
  assert.equal(closedIdle.reset, false, "the idle connection closed cleanly");
  open.socket.write(body);
  const answered = await open.closed;
  assert.equal(statusOf(answered.text), 201, answered.text);
  assert.match(answered.text, /connection: close/i);
  assert.equal(answered.reset, false);
  assert.equal(await closing, 1);
});

test("a pipeline reading a FIFO, an export into /proc or onto a file: refused with the reason, scoring goes on", async (t) => {
  const { pier, key } = await serve(t);
  const dir = mkdtempSync(join(tmpdir(), "pier-hostile-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("mkfifo", [join(dir, "banking.csv")]);
  writeFileSync(join(dir, "a-file"), "x");
  const api = (path: string, body: unknown) =>
    pier.fetch(`/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${pier.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const document = {
    name: "fifo",
    data: { path: "banking.csv" },
    target: "HighAmount",
    register: { model: "fifo" },
    rollout: { endpoint: "fin", deployment: { instance_type: "Standard_F2s_v2" } },
  };
  const started = await api("/pipeline/runs", { document, source: "fifo.yml", baseDir: dir });
  assert.equal(started.status, 201, await started.clone().text());
  const { id } = (await started.json()) as { id: number };
  const run = await waitFor(() => {
    const r = pier.pipelineRuns.get(id);
    return r.state === "Failed" ? r : undefined;
  }, "the run failed at its data step");
  assert.equal(run.error?.code, "NotARegularFile", run.outcome);
  assert.match(run.error?.summary ?? "", /a named pipe \(FIFO\)/);
  for (const [out, code] of [
    ["/proc/self/x", "NotARegularFile"],
    ["/dev/null", "NotARegularFile"],
    [join(dir, "a-file"), "PathUnusable"],
  ] as const) {
    const answer = await api("/endpoints/fin/export", { target: "azureml", out });
    assert.equal(answer.status, 400, out);
    assert.equal(((await answer.json()) as { error: { code: string } }).error.code, code, out);
  }
  // The data plane answered all along: the endpoint (no deployment yet) says so at once.
  const scored = await pier.fetch("/endpoints/fin/score", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: "{}",
  });
  assert.notEqual(scored.status, 500);
});
