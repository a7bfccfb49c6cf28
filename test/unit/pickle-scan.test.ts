/**
 * The pickle scan on files made the way joblib.dump makes them (test/tools/make_joblib.py, with
 * Debian's scikit-learn and joblib): numpy arrays as raw buffers between the opcodes, compressed
 * streams, object arrays as nested pickles, and a file cut short. The scan runs none of the pickle's
 * code; a name it can only guess never blocks a model, it becomes a note.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { pickleUncertainty, scanPickle } from "../../src/env/pickle-scan.js";
import { REPO_ROOT, tempDir } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";

function joblibFile(t: { after(fn: () => unknown): void }, kind: string): string {
  const out = join(tempDir(t), `${kind}.joblib`);
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_joblib.py"), kind, out]);
  return out;
}

const names = (scan: NonNullable<Awaited<ReturnType<typeof scanPickle>>>) =>
  scan.imports.map((i) => `${i.module}.${i.name}`);

test("joblib's raw array buffers are stepped over as joblib reads them: every import found, none invented", async (t) => {
  for (const kind of ["forest", "trap", "compressed", "objects"]) {
    const scan = await scanPickle(PYTHON, joblibFile(t, kind), true);
    assert.ok(scan, kind);
    assert.equal(scan.complete, true, `${kind} is read to its end`);
    assert.ok(names(scan).includes("sklearn.ensemble._forest.RandomForestClassifier"), kind);
    assert.ok(names(scan).includes("joblib.numpy_pickle.NumpyArrayWrapper"), kind);
    assert.deepEqual(
      scan.imports.filter((i) => i.status !== "ok").map((i) => `${i.module}.${i.name}`),
      [],
      `${kind}: every import resolves here`,
    );
    assert.deepEqual(scan.markers["scikit-learn"]?.length, 1, `${kind}: scikit-learn's own version marker`);
    assert.deepEqual(pickleUncertainty(scan, kind), [], "nothing to note when it was read to the end");
  }
  const trap = await scanPickle(PYTHON, joblibFile(t, "trap"), true);
  assert.ok(
    !names(trap!).some((n) => n.startsWith("lfq3c")),
    "array bytes that look like an opcode are data",
  );
  assert.equal((await scanPickle(PYTHON, joblibFile(t, "compressed"), false))!.format, "zlib");
});

test("a pickle that cannot be read to its end: what it found for sure, guesses marked, a note instead of an error", async (t) => {
  const scan = await scanPickle(PYTHON, joblibFile(t, "truncated"), true);
  assert.ok(scan);
  assert.equal(scan.complete, false);
  assert.ok(
    names(scan).includes("sklearn.ensemble._forest.RandomForestClassifier"),
    "what came before the cut",
  );
  for (const guess of scan.imports.filter((i) => i.certain === false))
    assert.equal(guess.status, "unchecked", "a guessed module is never imported");
  const [note] = pickleUncertainty(scan, "model.pkl");
  assert.equal(note?.code, "PickleScanIncomplete");
  assert.equal(note?.severity, "info");
});
