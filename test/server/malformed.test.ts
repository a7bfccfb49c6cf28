/**
 * Hostile and broken input against a real `pier up`: random bytes, truncations, deep nesting, huge
 * numbers, wrong types, bad encodings, bad paths and headers, oversized bodies, for the data plane and
 * the management API. Every answer is a 4xx (or a 200 for input that is odd but valid), none shows
 * pier's code or the machine's paths, /metrics stays bounded, and pier still serves afterwards.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { createRandom } from "../../src/shared/index.js";
import { servePier, trainedWorkspace } from "../helpers.js";

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** Raw HTTP, so that nothing (fetch included) cleans up what is sent. */
function send(url: string, c: Case): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: c.method ?? "POST",
        path: c.path,
        headers: c.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

test("malformed and hostile requests get 4xx with a code, never a 5xx or pier's internals; pier keeps serving", async (t) => {
  const work = await trainedWorkspace("pier-malformed-", 400);
  t.after(work.cleanup);
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const file = join(work.dir, "blue.yml");
  const yaml = {
    name: "blue",
    endpoint_name: "fin",
    model: work.model,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  };
  writeFileSync(file, stringify(yaml));
  assert.equal((await pier.run(["deployment", "create", "-f", file, "--all-traffic"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout)
    .primaryKey as string;
  const token = readFileSync(join(pier.home, "api-token"), "utf8").trim();
  const example = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const good = JSON.stringify({
    input_data: { columns: example.columns, index: [0], data: example.data.slice(0, 1) },
  });
  const json = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const api = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const random = createRandom(7);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random.next() * 256)));

  const cases: Case[] = [
    ...[16, 256, 4096].flatMap((n) =>
      ["/endpoints/fin/score", "/endpoints/fin/invocations", "/endpoints/fin/v2/models/fin-blue/infer"].map(
        (path) => ({
          name: `${n} random bytes to ${path}`,
          path,
          headers: json,
          body: bytes(n),
        }),
      ),
    ),
    ...[1, 10, good.length / 2, good.length - 1].map((at) => ({
      name: `a valid body cut at ${Math.floor(at)}`,
      path: "/endpoints/fin/score",
      headers: json,
      body: good.slice(0, Math.floor(at)),
    })),
    ...[1_000, 10_000, 100_000].map((depth) => ({
      name: `JSON nested ${depth} deep`,
      path: "/endpoints/fin/invocations",
      headers: json,
      body: `{"inputs": ${"[".repeat(depth)}1${"]".repeat(depth)}}`,
    })),
    {
      name: "nested objects 50,000 deep",
      path: "/endpoints/fin/score",
      headers: json,
      body: `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`,
    },
    ...["1e400", "-1e400", "1e-400", "18446744073709551616", "1".repeat(400)].map((n) => ({
      name: `the number ${n.slice(0, 20)}`,
      path: "/endpoints/fin/score",
      headers: json,
      body: good.replace(/\[\[([-\d.e]+)/, `[[${n}`),
    })),
    ...[
      { inputs: [null] },
      { inputs: null },
      { inputs: {} },
      { inputs: { a: { b: {} } } },
      { input_data: "x" },
      { input_data: 5 },
      { input_data: [[]] },
      { input_data: [{}] },
      { input_data: { columns: 5, data: "x" } },
      { input_data: { columns: ["a"], data: [[1, 2]] } },
      { dataframe_split: { columns: 5, data: "x" } },
      { dataframe_records: [1, 2, 3] },
      { instances: "x" },
      { instances: [[null]] },
      [],
      "x",
      null,
      true,
    ].flatMap((body) =>
      ["/endpoints/fin/score", "/endpoints/fin/invocations"].map((path) => ({
        name: `${JSON.stringify(body).slice(0, 40)} to ${path}`,
        path,
        headers: json,
        body: JSON.stringify(body),
      })),
    ),
    ...[
      { inputs: "x" },
      { inputs: [{ name: "Age" }] },
      { inputs: [{ name: "Age", shape: [1], datatype: "FP64", data: "x" }] },
      { inputs: [{ name: "Age", shape: [-1], datatype: "FP64", data: [1] }] },
      { inputs: [{ name: "Age", shape: [1e9, 1e9], datatype: "FP64", data: [1] }] },
      { inputs: [{ name: 5, shape: [1], datatype: "FP64", data: [1] }] },
      { id: 5, inputs: [] },
      { outputs: "x", inputs: [{ name: "Age", shape: [1], datatype: "FP64", data: [1] }] },
    ].map((body) => ({
      name: `v2 ${JSON.stringify(body).slice(0, 50)}`,
      path: "/endpoints/fin/v2/models/fin-blue/infer",
      headers: json,
      body: JSON.stringify(body),
    })),
    {
      name: "invalid UTF-8",
      path: "/endpoints/fin/score",
      headers: json,
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    },
    {
      name: "a UTF-16 body",
      path: "/endpoints/fin/score",
      headers: json,
      body: Buffer.from(`\ufeff${good}`, "utf16le"),
    },
    {
      name: "a charset MLflow refuses",
      path: "/endpoints/fin/invocations",
      headers: { ...json, "content-type": "application/json; charset=utf-16" },
      body: good,
    },
    {
      name: "a garbage content type",
      path: "/endpoints/fin/score",
      headers: { ...json, "content-type": ";;;=,,, text/?? ; x" },
      body: good,
    },
    { name: "a bad escape in the endpoint", path: "/endpoints/%ZZ/score", headers: json, body: good },
    {
      name: "a bad escape in the model",
      path: "/endpoints/fin/v2/models/%E0%A4%A/infer",
      headers: json,
      body: good,
    },
    {
      name: "a bad escape in the management API",
      method: "GET",
      path: "/api/v1/endpoints/%ZZ",
      headers: api,
    },
    { name: "an empty endpoint name", path: "/endpoints//score", headers: json, body: good },
    { name: "dots for an endpoint", path: "/endpoints/../api/v1/endpoints", headers: json, body: good },
    {
      name: "a 4,000-character path",
      method: "GET",
      path: `/endpoints/${"x".repeat(4000)}/score`,
      headers: json,
    },
    {
      name: "a deployment header with a path",
      path: "/endpoints/fin/score",
      headers: { ...json, "azureml-model-deployment": "../../blue" },
      body: good,
    },
    {
      name: "a 16 KiB bearer token",
      path: "/endpoints/fin/score",
      headers: { ...json, authorization: `Bearer ${"x".repeat(16_384)}` },
      body: good,
    },
    {
      name: "a token with a forged payload",
      path: "/endpoints/fin/score",
      headers: { ...json, authorization: "Bearer bm90IGpzb24.c2ln" },
      body: good,
    },
    {
      name: "a huge x-request-id",
      path: "/endpoints/fin/score",
      headers: { ...json, "x-request-id": "r".repeat(8000) },
      body: good,
    },
    { name: "DELETE on a scoring route", method: "DELETE", path: "/endpoints/fin/score", headers: json },
    {
      name: "PATCH on v2 infer",
      method: "PATCH",
      path: "/endpoints/fin/v2/models/fin-blue/infer",
      headers: json,
      body: good,
    },
    {
      name: "a 6 MiB body to /score",
      path: "/endpoints/fin/score",
      headers: json,
      body: Buffer.alloc(6 * 2 ** 20, 0x20),
    },
    { name: "an array body to the management API", path: "/api/v1/endpoints", headers: api, body: "[1,2]" },
    { name: "not JSON to the management API", path: "/api/v1/endpoints", headers: api, body: "{nope" },
    {
      name: "an object for keyType",
      path: "/api/v1/endpoints/fin/regenerate-keys",
      headers: api,
      body: JSON.stringify({ keyType: { a: 1 } }),
    },
    {
      name: "an object for source",
      path: "/api/v1/endpoints",
      headers: api,
      body: JSON.stringify({ spec: { name: "x1" }, source: { a: 1 } }),
    },
    {
      name: "a spec that is a string",
      path: "/api/v1/deployments",
      headers: api,
      body: JSON.stringify({ spec: "blue", specDir: 5 }),
    },
    {
      name: "a 6 MiB management body",
      path: "/api/v1/endpoints",
      headers: api,
      body: Buffer.alloc(6 * 2 ** 20, 0x20),
    },
    {
      name: "deep JSON to the management API",
      path: "/api/v1/endpoints",
      headers: api,
      body: `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
    },
  ];

  const failures: string[] = [];
  const statuses: Record<number, number> = {};
  const answered: string[] = [];
  for (const c of cases) {
    let answer: { status: number; text: string };
    try {
      answer = await send(pier.url, c);
    } catch (error) {
      failures.push(`${c.name}: no answer (${(error as Error).message})`);
      continue;
    }
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.status === 200) answered.push(c.name);
    if (answer.status >= 500) failures.push(`${c.name}: ${answer.status} ${answer.text.slice(0, 200)}`);
    if (/\/(tmp|work|home|root|usr)\/|dist\/src|node:internal|\.ts:\d+|\.js:\d+/.test(answer.text))
      failures.push(`${c.name}: the answer shows pier's internals: ${answer.text.slice(0, 200)}`);
    if (
      answer.status >= 400 &&
      !/"code"|"error_code"|"error"|"message"/.test(answer.text) &&
      answer.status !== 415
    )
      failures.push(`${c.name}: ${answer.status} without a code: ${answer.text.slice(0, 120)}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(statuses[413]! >= 2, `the oversized bodies get their 413: ${JSON.stringify(statuses)}`);
  t.diagnostic(
    `${cases.length} malformed requests: ${JSON.stringify(statuses)}; scored (odd but valid): ${answered.join("; ")}`,
  );

  // Made-up endpoint names share one metrics label: /metrics stays small.
  await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      send(pier.url, { name: "scan", path: `/endpoints/made-up-${i}/score`, body: "{}" }),
    ),
  );
  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.ok(!metrics.includes("made-up-"), "no label for an endpoint that does not exist");
  assert.ok(metrics.length < 200_000, `/metrics is ${metrics.length} bytes`);

  // And pier still serves.
  const after = await send(pier.url, {
    name: "good",
    path: "/endpoints/fin/score",
    headers: json,
    body: good,
  });
  assert.equal(after.status, 200, after.text);
});
