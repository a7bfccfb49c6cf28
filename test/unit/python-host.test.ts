/**
 * The Python host's own logic, tested in Python (python/tests, unittest) with the interpreter the
 * instances use: how it classifies a load failure for the doctor and names an answer JSON cannot hold.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers.js";

test("the Python host's unit tests pass (python/tests)", () => {
  const python = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
  const run = spawnSync(python, ["-m", "unittest", "discover", "-s", join(REPO_ROOT, "python/tests"), "-v"], {
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  const ran = Number(/Ran (\d+) tests?/.exec(run.stderr)?.[1] ?? 0);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(ran >= 5, `ran ${ran} tests:\n${run.stderr}`);
});
