/** How `pier az` reads a command line and prints a result, as the Azure CLI (argparse, knack) does. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyQuery, azArgv, formatAz } from "../../src/cli/az.js";
import { withOverrides } from "../../src/cli/overrides.js";

const OPTIONS = {
  name: { type: "string", short: "n", description: "" },
  "endpoint-name": { type: "string", short: "e", description: "" },
  "deployment-name": { type: "string", description: "" },
  set: { type: "string", description: "", multiple: true },
  local: { type: "boolean", description: "" },
  "local-enable-gpu": { type: "boolean", description: "" },
} as const;

test("a long option may be any prefix that names one option, as argparse allows", () => {
  assert.deepEqual(azArgv(OPTIONS, ["--endpoint", "ep", "--deployment=green", "--na", "blue"]), [
    "--endpoint-name",
    "ep",
    "--deployment-name=green",
    "--name",
    "blue",
  ]);
  assert.throws(
    () => azArgv(OPTIONS, ["--loc"]),
    /ambiguous option: --loc could match --local, --local-enable-gpu/,
  );
  // An exact name is never ambiguous, and an unknown one is left for the strict parser to name.
  assert.deepEqual(azArgv(OPTIONS, ["--local", "--nope"]), ["--local", "--nope"]);
});

test("a many-valued option takes the words after it (--set a=1 b=2), until the next option", () => {
  assert.deepEqual(
    azArgv(OPTIONS, ["--set", "instance_count=2", "request_settings.request_timeout_ms=3000", "-n", "x"]),
    ["--set", "instance_count=2", "--set", "request_settings.request_timeout_ms=3000", "-n", "x"],
  );
});

test("--set reads its value as YAML into a dotted path, over the file's keys", () => {
  const doc = {
    name: "blue",
    instance_count: 1,
    request_settings: { max_concurrent_requests_per_instance: 1 },
  };
  assert.deepEqual(
    withOverrides(doc, {
      name: "green",
      set: [
        "instance_count=2",
        "request_settings.request_timeout_ms=3000",
        "tags.team=risk",
        "app_insights_enabled=true",
      ],
    }),
    {
      name: "green",
      instance_count: 2,
      request_settings: { max_concurrent_requests_per_instance: 1, request_timeout_ms: 3000 },
      tags: { team: "risk" },
      app_insights_enabled: true,
    },
  );
  assert.equal(doc.instance_count, 1, "the document itself is not changed");
  assert.throws(() => withOverrides(doc, { set: ["instance_count.x=1"] }), /'instance_count' is the value 1/);
  assert.throws(() => withOverrides(doc, { set: ["=1"] }), /is not a property path and a value/);
});

test("--query is JMESPath and -o prints as az: tsv values only, table without ids, yaml, none", () => {
  const endpoints = [
    { name: "a", provisioning_state: "Succeeded", id: "/subscriptions/x", traffic: { blue: 100 } },
    { name: "b", provisioning_state: "Failed", id: "/subscriptions/y", traffic: {} },
  ];
  assert.equal(formatAz(applyQuery(endpoints, "[?provisioning_state=='Failed'].name | [0]"), "tsv"), "b");
  assert.equal(
    formatAz(applyQuery(endpoints, "[].[name, provisioning_state]"), "tsv"),
    "a\tSucceeded\nb\tFailed",
  );
  assert.equal(formatAz(applyQuery(endpoints, "[].name"), "tsv"), "a\nb");
  assert.equal(
    formatAz(endpoints[0], "tsv"),
    "a\tSucceeded\t/subscriptions/x",
    "nested objects are left out",
  );
  assert.equal(
    formatAz(endpoints, "table"),
    ["Name  Provisioning State", "----  ------------------", "a     Succeeded", "b     Failed"].join("\n"),
  );
  assert.equal(formatAz(applyQuery(endpoints, "length(@)"), "json"), "2");
  assert.equal(
    formatAz("[1.5, 2]", "json"),
    '"[1.5, 2]"',
    "a string answer is JSON-quoted, as az prints invoke",
  );
  assert.equal(formatAz("[1.5, 2]", "tsv"), "[1.5, 2]");
  assert.equal(formatAz({ a: 1 }, "yaml"), "a: 1");
  assert.equal(formatAz({ a: 1 }, "none"), undefined);
  assert.throws(() => applyQuery(endpoints, "[?"), /invalid jmespath_type value/);
});
