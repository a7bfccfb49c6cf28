import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CODES, codeInfo, PierError } from "../../src/shared/index.js";
import { REPO_ROOT } from "../helpers.js";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts") || entry.name.endsWith(".py")
        ? [join(dir, entry.name)]
        : [],
  );
}

test("every code in the table is used by pier, and every class maps to a sensible status and exit", () => {
  const text = [...sources(join(REPO_ROOT, "src")), ...sources(join(REPO_ROOT, "python"))]
    .filter((file) => !file.endsWith("codes.ts"))
    .map((file) => readFileSync(file, "utf8"))
    .join("\n");
  const unused = Object.keys(CODES).filter((code) => !text.includes(`"${code}"`));
  assert.deepEqual(unused, [], "codes in the table that nothing reports");
  for (const [code, info] of Object.entries(CODES)) {
    if (info.class === "user") assert.ok(info.http >= 400 && info.http < 500, `${code} is a 4xx`);
    if (info.exit === 70) assert.equal(info.class, "system", `${code}: only pier's own faults exit 70`);
  }
});

test("an error takes its HTTP status, exit code and class from the table", () => {
  const cases = [
    ["EndpointNotFound", 404, 1, "user"],
    ["DeploymentExists", 409, 1, "user"],
    ["UnknownOption", 400, 2, "user"],
    ["TooManyRequests", 429, 1, "user"],
    ["ModelError", 424, 1, "model"],
    ["PackageMissing", 400, 1, "model"],
    ["InternalError", 500, 70, "system"],
  ] as const;
  for (const [code, http, exit, kind] of cases) {
    const error = new PierError({ code, summary: "x" });
    assert.deepEqual([error.httpStatus, error.exitCode, error.class], [http, exit, kind], code);
    assert.equal(codeInfo(code).http, http);
    assert.equal(error.toJSON().class, kind);
  }
});

test("every code the Python host sends is in the table, so the gateway and the doctor can switch on it", () => {
  const python = readdirSync(join(REPO_ROOT, "python"))
    .filter((f) => f.endsWith(".py"))
    .map((f) => readFileSync(join(REPO_ROOT, "python", f), "utf8"))
    .join("\n");
  const sent = [...python.matchAll(/"code":\s*"(\w+)"/g)].map((m) => m[1]!);
  assert.ok(sent.includes("UnserializableOutput") && sent.includes("ModelError"), sent.join(", "));
  assert.deepEqual(
    sent.filter((code) => !(code in CODES)),
    [],
    "codes the host sends that the table lacks",
  );
});
