/**
 * The management API and the commands that use it, with pier's server in this process: the route
 * table, its token, Azure's rules for endpoint and deployment YAML and for traffic, and a deployment
 * whose model cannot load. Statuses come from the one code table.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { BODIES, matchRoute, pathFor, ROUTES, type RouteName, routeFor } from "../../src/api/index.js";
import type { PierError } from "../../src/shared/index.js";
import { type PierServer, servePier, trainedWorkspace } from "../helpers.js";

let pier: PierServer;
let work: string;
let token: string;

before(async () => {
  const workspace = await trainedWorkspace("pier-api-", 400);
  work = workspace.dir;
  pier = await servePier();
  token = readFileSync(join(pier.home, "api-token"), "utf8");
});
after(async () => {
  await pier.stop();
  rmSync(work, { recursive: true, force: true });
});

function yamlFile(name: string, doc: Record<string, unknown>): string {
  const path = join(work, `${name}.yml`);
  writeFileSync(path, stringify(doc));
  return path;
}

const api = (method: string, path: string, body?: unknown, auth = token) =>
  fetch(`${pier.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });

test("the route table: each method and path names one route; path parameters are decoded; anything else is RouteNotFound", () => {
  const match = matchRoute("GET", "/endpoints/fin%2Dx/deployments/blue/logs");
  assert.equal(match.name, "deployments.logs");
  assert.deepEqual(match.params, { endpoint: "fin-x", deployment: "blue" });
  assert.deepEqual(
    [matchRoute("POST", "/deployments").name, matchRoute("POST", "/deployments").stream],
    ["deployments.apply", true],
  );
  assert.equal(matchRoute("POST", "/endpoints").status, 201);
  assert.throws(
    () => matchRoute("PUT", "/endpoints"),
    (e: PierError) => e.code === "RouteNotFound" && e.httpStatus === 404,
  );
  const keys = Object.values(ROUTES).map((r) => `${r.method} ${r.path}`);
  assert.equal(new Set(keys).size, keys.length, "no route is listed twice");
  // A path built for a route is the route's, whatever its names hold.
  for (const name of Object.keys(ROUTES) as RouteName[]) {
    const params = Object.fromEntries(
      [...ROUTES[name].path.matchAll(/:(\w+)/g)].map((m) => [m[1]!, `a/b c%${m[1]}`]),
    );
    const path = pathFor(name, params as never);
    assert.equal(routeFor(ROUTES[name].method, path)?.name, name, path);
  }
  assert.equal(
    pathFor("monitor.report", { endpoint: "fin" }, { since: "1h", deployment: undefined }),
    "/endpoints/fin/monitor?since=1h",
  );
});

test("a body that does not fit its route's schema is a 400 naming the key", async () => {
  const response = await api("POST", "/endpoints/fin/regenerate-keys", { keyType: "tertiary" });
  const { error } = (await response.json()) as { error: { code: string; summary: string } };
  assert.equal(response.status, 400);
  assert.match(error.summary, /keyType/);
  const extra = await api("POST", "/pipeline/runs/1/approve", { by: "me", approve: true });
  assert.match(
    ((await extra.json()) as { error: { summary: string } }).error.summary,
    /approve: not a known key/,
  );
  // Every route with a body has its schema, and no schema names a route that does not exist.
  for (const name of Object.keys(BODIES)) assert.ok(name in ROUTES, name);
});

test("the API answers with the table's statuses: 401 without its token, 404, 409, 400 for a bad body", async () => {
  assert.equal((await api("GET", "/endpoints", undefined, "wrong")).status, 401);
  assert.equal((await api("GET", "/nothing/here")).status, 404);
  assert.equal((await api("GET", "/endpoints/missing")).status, 404);
  const created = await api("POST", "/endpoints", { spec: { name: "apiep" }, source: "test" });
  assert.equal(created.status, 201);
  const again = await api("POST", "/endpoints", { spec: { name: "apiep" }, source: "test" });
  assert.deepEqual(
    [again.status, ((await again.json()) as { error: { code: string } }).error.code],
    [409, "EndpointExists"],
  );
  assert.equal((await api("POST", "/endpoints", "{not json")).status, 400);
  const bad = await api("PATCH", "/endpoints/apiep", { traffic: "blue=abc" });
  assert.deepEqual(
    [bad.status, ((await bad.json()) as { error: { code: string } }).error.code],
    [400, "BadArgument"],
  );
  const events = (await (await api("GET", "/endpoints/apiep/events")).json()) as {
    kind: string;
    data: unknown;
  }[];
  assert.deepEqual(
    events.map((e) => e.kind),
    ["EndpointCreated"],
  );
  assert.deepEqual(events[0]!.data, { authMode: "key" });
  assert.equal((await api("DELETE", "/endpoints/apiep")).status, 200);
});

test("bad YAML is refused with the file, the key and the allowed values; nothing is half-created", async () => {
  const unknownKey = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile("bad-ep", { name: "fin", auth_mode: "cert", colour: "blue" }),
  ]);
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /bad-ep\.yml is not a valid online endpoint/);
  assert.match(unknownKey.stderr, /auth_mode: must be one of "key", "aml_token", "aad_token"/);
  assert.match(unknownKey.stderr, /colour: not a known key/);
  writeFileSync(join(work, "broken.yml"), "name: [unclosed\n");
  assert.match(
    (await pier.run(["endpoint", "create", "-f", join(work, "broken.yml")])).stderr,
    /is not valid YAML/,
  );
  const warned = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile("yaml-ep", { name: "yaml", identity: { type: "system_assigned" } }),
  ]);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /'identity' is accepted but not honoured locally/);
  const deployment = (name: string, extra: Record<string, unknown>) =>
    yamlFile(name, {
      name: "blue",
      endpoint_name: "yaml",
      model: "./model",
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      ...extra,
    });
  const range = await pier.run([
    "deployment",
    "create",
    "-f",
    deployment("range", { instance_count: 0, request_settings: { request_timeout_ms: 999_999 } }),
  ]);
  assert.equal(range.code, 1);
  assert.match(range.stderr, /instance_count: Too small/);
  assert.match(range.stderr, /request_settings\.request_timeout_ms: Too big/);
  const vm = await pier.run([
    "deployment",
    "create",
    "-f",
    deployment("vm", { instance_type: "Standard_Z9_v9" }),
  ]);
  assert.match(vm.stderr, /instance_type 'Standard_Z9_v9' is not a VM size pier knows/);
  assert.deepEqual(
    JSON.parse((await pier.run(["deployment", "list", "-e", "yaml", "-o", "json"])).stdout),
    [],
  );
});

test("traffic rules: weights sum to 0 or 100, one mirror of at most 50% that takes no live traffic, no deleting a deployment that has traffic", async () => {
  assert.equal((await pier.run(["endpoint", "create", "-n", "rules"])).code, 0);
  const file = (name: string) =>
    yamlFile(`rules-${name}`, {
      name,
      endpoint_name: "rules",
      model: "./model",
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    });
  assert.equal((await pier.run(["deployment", "create", "-f", file("blue"), "--all-traffic"])).code, 0);
  assert.equal((await pier.run(["deployment", "create", "-f", file("green")])).code, 0);
  const update = (...flags: string[]) => pier.run(["endpoint", "update", "rules", ...flags]);
  const sum = await update("--traffic", "blue=60 green=30");
  assert.equal(sum.code, 1);
  assert.match(sum.stderr, /must add up to 0 or 100/);
  assert.match(
    (await update("--traffic", "blue=100", "--mirror-traffic", "blue=10")).stderr,
    /cannot receive live traffic .* and mirror traffic/,
  );
  assert.match((await update("--mirror-traffic", "green=60")).stderr, /maximum is 50%/);
  assert.match((await update("--traffic", "purple=100")).stderr, /Deployment 'purple' does not exist/);
  assert.equal((await update("--mirror-traffic", "green=50")).code, 0);
  const refused = await pier.run(["deployment", "delete", "-e", "rules", "-n", "green"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /still receives 50% mirrored traffic/);
  assert.equal((await update("--mirror-traffic", "green=0")).code, 0);
  assert.equal((await pier.run(["deployment", "delete", "-e", "rules", "-n", "green"])).code, 0);
  assert.match(
    (await pier.run(["deployment", "delete", "-e", "rules", "-n", "blue"])).stderr,
    /still receives 100% of live traffic/,
  );
});

test("a model that cannot load ends Failed with the cause, its evidence and the doctor's diagnosis, never a hang", async () => {
  assert.equal((await pier.run(["endpoint", "create", "-n", "fails"])).code, 0);
  const broken = join(work, "broken-model");
  cpSync(join(work, "model"), broken, { recursive: true });
  // A well-formed graph that ONNX Runtime cannot load: an operator no runtime implements (the same
  // length as the one it replaces, so the protobuf stays valid and registration's reading passes).
  const graph = readFileSync(join(broken, "model.onnx"));
  const op = graph.indexOf("TreeEnsembleClassifier");
  assert.ok(op > 0);
  graph.write("TreeEnsembleClassifiez", op);
  writeFileSync(join(broken, "model.onnx"), graph);
  const file = yamlFile("fails-blue", {
    name: "blue",
    endpoint_name: "fails",
    model: "./broken-model",
    instance_type: "Standard_DS2_v2",
    instance_count: 1,
  });
  const result = await pier.run(["deployment", "create", "-f", file]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /fails\/blue +Failed/);
  assert.match(result.stdout, /✘ ModelLoadFailed: .*OnnxLoadFailed/);
  assert.match(result.stdout, /How to fix:/);
  const logs = await pier.run(["deployment", "get-logs", "-e", "fails", "-n", "blue"]);
  assert.match(logs.stdout, /model load failed: OnnxLoadFailed/);
  const events = (await (await api("GET", "/endpoints/fails/events?deployment=blue")).json()) as {
    kind: string;
  }[];
  const kinds = events.map((e) => e.kind);
  for (const kind of [
    "Creating",
    "StorageInitialized",
    "ProcessStarted",
    "LoadFailed",
    "ProcessExited",
    "Failed",
  ])
    assert.ok(kinds.includes(kind), `event ${kind} in ${kinds.join(", ")}`);
});
