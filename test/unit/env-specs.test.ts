import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Known,
  parseCondaSpec,
  parseRequirementsTxt,
  pythonSatisfies,
  requiresPython,
  supportsNumpy2,
} from "../../src/env/index.js";

test("requirements.txt: pins, ranges, extras, markers, comments, includes and options", () => {
  const parsed = parseRequirementsTxt(
    [
      "# comment",
      "scikit-learn==1.2.1",
      "Pandas>=1.5, <2  # inline comment",
      "mlflow[extras]==2.17.2",
      'numpy==1.26.4; python_version >= "3.9"',
      "mlflow-skinny",
      "-r other.txt",
      "--index-url https://example.invalid/simple",
      "onnx=>1.2",
    ].join("\n"),
    "requirements.txt",
  );
  const byName = Object.fromEntries(parsed.requirements.map((r) => [r.name, r]));
  assert.equal(byName["scikit-learn"]!.pinned, "1.2.1");
  assert.equal(byName.pandas!.specifier, ">=1.5,<2");
  assert.equal(byName.pandas!.pinned, undefined);
  assert.equal(byName.pandas!.line, 3);
  assert.equal(byName.mlflow!.pinned, "2.17.2");
  assert.equal(byName.numpy!.marker, 'python_version >= "3.9"');
  assert.equal(byName["mlflow-skinny"]!.specifier, "");
  assert.match(byName.onnx!.problem!, /not a valid PEP 440 version specifier/);
  assert.deepEqual(parsed.includes, [{ path: "other.txt", line: 7 }]);
  assert.deepEqual(parsed.options, [
    { text: "--index-url https://example.invalid/simple", file: "requirements.txt", line: 8 },
  ]);
});

test("requirements.txt lines installed from elsewhere are understood, each with its line: URLs, VCS, paths, editables, constraints", () => {
  const parsed = parseRequirementsTxt(
    [
      "xgboost @ https://files.example/xgboost-1.7.2-py3-none-any.whl",
      "git+https://github.com/org/featurelib.git@v2.1#egg=featurelib",
      "https://files.example/emoji-2.8.0-py3-none-any.whl",
      "-e ./vendor/helpers",
      "-c constraints.txt",
      "scipy==1.10.1 \\",
      "  --hash=sha256:abc",
      "git+https://github.com/org/nameless.git",
    ].join("\n"),
    "requirements.txt",
  );
  const [xgb, vcs, wheel, editable, hashed, nameless] = parsed.requirements;
  assert.deepEqual([xgb!.name, xgb!.pinned, xgb!.direct?.kind], ["xgboost", "1.7.2", "url"]);
  assert.deepEqual(
    [vcs!.name, vcs!.pinned, vcs!.direct?.kind, vcs!.line],
    ["featurelib", undefined, "vcs", 2],
  );
  assert.deepEqual([wheel!.name, wheel!.pinned], ["emoji", "2.8.0"]);
  assert.deepEqual([editable!.direct?.kind, editable!.direct?.editable, editable!.line], ["path", true, 4]);
  assert.deepEqual(parsed.constraints, [{ path: "constraints.txt", line: 5 }]);
  assert.deepEqual(
    [hashed!.name, hashed!.pinned, hashed!.line],
    ["scipy", "1.10.1", 6],
    "a continued line is one requirement",
  );
  // pip takes a VCS URL without #egg (it reads the name when it builds); until then, the repository's.
  assert.deepEqual(
    [nameless!.name, nameless!.problem, nameless!.direct?.nameFromRepository],
    ["nameless", undefined, true],
  );
});

test("conda match specs become PEP 440 specifiers: '=3.8' is any 3.8.x, '=3.11.12' one release", () => {
  assert.deepEqual(
    [parseCondaSpec("python=3.8", "c", 1).specifier, parseCondaSpec("python=3.8", "c", 1).pinned],
    ["==3.8.*", undefined],
  );
  assert.equal(parseCondaSpec("python=3.11.12", "c", 1).pinned, "3.11.12");
  assert.equal(parseCondaSpec("pip<=21.2.4", "c", 1).specifier, "<=21.2.4");
  assert.equal(parseCondaSpec("numpy 1.21.*", "c", 1).specifier, "==1.21.*");
  assert.equal(parseCondaSpec("conda-forge::scikit-learn==1.2.1", "c", 1).pinned, "1.2.1");
  assert.equal(parseCondaSpec("pip", "c", 1).specifier, "");
});

/** The value of a known answer; fails the test for "unknown". */
function known<T>(answer: Known<T>): T {
  assert.ok(answer.known, "expected a known answer");
  return answer.value;
}

test("knowledge answers known or unknown, never a guess", () => {
  assert.equal(known(requiresPython("scikit-learn", "1.7.0")), ">=3.10");
  assert.equal(known(requiresPython("scikit_learn", "0.24.2")), ">=3.6", "names are normalized");
  assert.deepEqual(requiresPython("torch", "2.3.0"), { known: false });
  // ONNX Runtime publishes one wheel per CPython: what pier's own trained packages pin is known.
  assert.equal(known(requiresPython("onnxruntime", "1.20.1")), ">=3.10,<3.14");
  assert.equal(known(requiresPython("onnxruntime", "1.24.3")), ">=3.11,<3.15");
  assert.deepEqual(requiresPython("onnxruntime", "1.16.3"), { known: false });
  assert.deepEqual(
    requiresPython("scikit-learn", "0.14.0"),
    { known: false },
    "a version outside the table is unknown",
  );
  assert.equal(known(supportsNumpy2("pandas", "2.2.1")), false);
  assert.equal(known(supportsNumpy2("pandas", "2.2.2")), true);
  assert.equal(pythonSatisfies("3.8", ">=3.9"), false);
  assert.equal(pythonSatisfies("3.7", ">=3.7.1"), true, "some 3.7 release satisfies it");
  assert.equal(pythonSatisfies("3.12", ">=3.9,<3.13"), true);
  assert.equal(pythonSatisfies("3.13.1", ">=3.9,<3.13"), false);
});
