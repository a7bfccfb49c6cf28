/**
 * ONNX models as the world makes them (test/tools/make_onnx.py writes them with Debian's python3-onnx,
 * following PyTorch's, tf2onnx's and skl2onnx's conventions, in MLflow folders as mlflow.onnx writes
 * them), deployed and called through every protocol. Each answer is compared with ONNX Runtime called
 * directly on the same tensors (ZipMap probabilities, which ONNX Runtime for Node cannot return, with
 * the classifier's formula computed by numpy when the model was made).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as ort from "onnxruntime-node";
import { stringify } from "yaml";
import { type PierServer, post, REPO_ROOT, servePier } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
let pier: PierServer;
let work: string;
const keys = new Map<string, string>();

/** Deterministic numbers in [-1, 1), rounded so that float32 and JSON agree. */
function numbers(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.round(((state / 2 ** 31) * 2 - 1) * 1000) / 1000;
  });
}

function nest(data: unknown[], shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) =>
    nest(data.slice(i * stride, (i + 1) * stride), shape.slice(1)),
  );
}

/** The model's outputs from ONNX Runtime itself, as nested lists. */
async function direct(folder: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, unknown>> {
  const session = await ort.InferenceSession.create(join(work, "onnx", folder, "model.onnx"));
  try {
    const results = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(results).map(([name, t]) => [
        name,
        nest(
          Array.from(t.data as ArrayLike<number | bigint | string>, (v) =>
            typeof v === "bigint" ? Number(v) : t.type === "float16" ? halfValue(v as number) : v,
          ),
          [...t.dims],
        ),
      ]),
    );
  } finally {
    await session.release();
  }
}

async function deploy(folder: string): Promise<void> {
  const created = await pier.run(["endpoint", "create", "-n", folder]);
  assert.equal(created.code, 0, created.stderr);
  keys.set(
    folder,
    JSON.parse((await pier.run(["endpoint", "get-credentials", folder, "-o", "json"])).stdout).primaryKey,
  );
  const file = join(work, `${folder}.yml`);
  writeFileSync(
    file,
    stringify({
      name: "blue",
      endpoint_name: folder,
      model: join(work, "onnx", folder),
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 32 },
    }),
  );
  const result = await pier.run(["deployment", "create", "-f", file, "--all-traffic"]);
  assert.equal(result.code, 0, `${folder}: ${result.stdout}${result.stderr}`);
}

const call = (folder: string, route: string, body: unknown, headers: Record<string, string> = {}) =>
  post(`${pier.url}/endpoints/${folder}/${route}`, body, {
    authorization: `Bearer ${keys.get(folder)}`,
    ...headers,
  });

const TENSOR_MODELS = [
  "linear10",
  "keras25",
  "two-dtypes",
  "int-string",
  "small-types",
  "fixed-batch",
  "two-outputs",
  "image",
];

before(async () => {
  work = mkdtempSync(join(tmpdir(), "pier-tensors-"));
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_onnx.py"), join(work, "onnx")]);
  pier = await servePier();
  for (const folder of [...TENSOR_MODELS, "zipmap-int", "zipmap-str"]) await deploy(folder);
});
after(async () => {
  await pier.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Case {
  /** Input tensors: name → [dtype, shape, data]. */
  inputs: Record<string, [ort.Tensor.Type, number[], (number | string)[]]>;
}

/** Inputs for each model, batch 2 (1 for the fixed batch), of the types the graph declares. */
const CASES: Record<string, Case> = {
  linear10: { inputs: { input: ["float32", [2, 10], numbers(20, 1)] } },
  keras25: { inputs: { dense_input: ["float32", [2, 25], numbers(50, 2)] } },
  "two-dtypes": {
    inputs: { x: ["float32", [2, 4], numbers(8, 3)], ids: ["int64", [2, 2], [3, 1, 4, 1]] },
  },
  "int-string": {
    inputs: { category: ["string", [2, 1], ["gold", "tin"]], count: ["int64", [2, 1], [7, 9]] },
  },
  "small-types": {
    inputs: {
      half: ["float16", [2, 2], [0.5, -1.25, 2048, 0.099976]],
      flag: ["bool", [2, 1], [1, 0]],
      pixel: ["uint8", [2, 3], [0, 128, 255, 7, 8, 9]],
    },
  },
  "fixed-batch": { inputs: { x: ["float32", [1, 4], numbers(4, 4)] } },
  "two-outputs": { inputs: { x: ["float32", [2, 3], numbers(6, 5)] } },
  image: { inputs: { pixel_values: ["float32", [2, 3, 8, 8], numbers(384, 6)] } },
};

/** IEEE half precision bits of the numbers the small-types case sends (all exact in float16). */
function halfBits(value: number): number {
  const sign = value < 0 ? 0x8000 : 0;
  const abs = Math.abs(value);
  const exponent = Math.floor(Math.log2(abs));
  return sign | ((exponent + 15) << 10) | Math.round((abs / 2 ** exponent - 1) * 1024);
}

/** The number half precision bits stand for (normal numbers and zero: what these cases produce). */
function halfValue(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const value =
    exponent === 0 ? (bits & 0x3ff) * 2 ** -24 : 2 ** (exponent - 15) * (1 + (bits & 0x3ff) / 1024);
  return bits & 0x8000 ? -value : value;
}

function ortFeeds(c: Case): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(c.inputs).map(([name, [type, shape, data]]) => [
      name,
      type === "int64"
        ? new ort.Tensor(
            "int64",
            BigInt64Array.from(data as number[], (v) => BigInt(v)),
            shape,
          )
        : type === "string"
          ? new ort.Tensor("string", data as string[], shape)
          : type === "float16"
            ? new ort.Tensor("float16", Uint16Array.from(data as number[], halfBits), shape)
            : type === "bool" || type === "uint8"
              ? new ort.Tensor(type, Uint8Array.from(data as number[]), shape)
              : new ort.Tensor("float32", Float32Array.from(data as number[]), shape),
    ]),
  );
}

test("tensor models answer /score, /invocations and v2 as ONNX Runtime itself answers", async () => {
  for (const folder of TENSOR_MODELS) {
    const c = CASES[folder]!;
    const expected = await direct(folder, ortFeeds(c));
    const names = Object.keys(c.inputs);
    const nested = Object.fromEntries(names.map((n) => [n, nest(c.inputs[n]![2], c.inputs[n]![1])]));
    const single = names.length === 1 ? nested[names[0]!] : undefined;
    const outputs = Object.keys(expected);
    const scoreAnswer = outputs.length === 1 ? expected[outputs[0]!] : expected;

    // MLflow: {"inputs": …} and {"instances": …} answer a dict of outputs, as mlflow.onnx's predict
    // returns one for an ndarray or a dict (mlflow/onnx/__init__.py: `return dict(zip(self.output_names, predicted))`).
    const inputs = await call(folder, "invocations", { inputs: single ?? nested });
    assert.equal(inputs.status, 200, `${folder} inputs: ${JSON.stringify(inputs.body)}`);
    assert.deepEqual(inputs.body, { predictions: expected }, `${folder} {"inputs"}`);
    // Azure: {"input_data": …}: one output is the list itself, several an object per output name.
    const score = await call(folder, "score", { input_data: single ?? nested });
    assert.deepEqual([score.status, score.body], [200, scoreAnswer], `${folder} /score`);
    // The Open Inference Protocol: flat data with a shape and a datatype per input.
    const v2 = await call(folder, `v2/models/${folder}-blue/infer`, {
      id: "req-1",
      inputs: names.map((n) => ({
        name: n,
        shape: c.inputs[n]![1],
        datatype: {
          float32: "FP32",
          int64: "INT64",
          string: "BYTES",
          float16: "FP16",
          bool: "BOOL",
          uint8: "UINT8",
        }[c.inputs[n]![0] as string],
        data: c.inputs[n]![0] === "bool" ? c.inputs[n]![2].map(Boolean) : c.inputs[n]![2],
      })),
    });
    assert.equal(v2.status, 200, `${folder} v2: ${JSON.stringify(v2.body)}`);
    assert.deepEqual(
      { model_name: v2.body.model_name, model_version: v2.body.model_version, id: v2.body.id },
      { model_name: `${folder}-blue`, model_version: "1", id: "req-1" },
    );
    for (const output of v2.body.outputs as { name: string; shape: number[]; data: unknown[] }[])
      assert.deepEqual(nest(output.data, output.shape), expected[output.name], `${folder} v2 ${output.name}`);

    if (single !== undefined && c.inputs[names[0]!]![1].length === 2) {
      const rows = single as unknown[][];
      // Rows as instances (a tensor) and as a DataFrame (one record per row), as MLflow maps them
      // onto a model's only input (DataFrame.values).
      assert.deepEqual((await call(folder, "invocations", { instances: rows })).body, {
        predictions: expected,
      });
      const records = rows.map((_, i) =>
        Object.fromEntries(outputs.map((o) => [o, (expected[o] as unknown[][])[i]])),
      );
      const flat = records.map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v]),
        ),
      );
      assert.deepEqual((await call(folder, "invocations", { dataframe_split: { data: rows } })).body, {
        predictions: flat,
      });
      const csv = `${rows[0]!.map((_, i) => `f${i}`).join(",")}\n${rows.map((r) => r.join(",")).join("\n")}\n`;
      const fromCsv = await call(folder, "invocations", csv, { "content-type": "text/csv" });
      assert.deepEqual(fromCsv.body, { predictions: flat }, `${folder} CSV`);
      assert.deepEqual((await call(folder, "score", { input_data: rows })).body, scoreAnswer);
    }
  }
});

test("ZipMap classifiers answer labels and per-class probabilities, as MLflow's scoring server shapes them", async () => {
  for (const folder of ["zipmap-int", "zipmap-str"]) {
    const expected = JSON.parse(readFileSync(join(work, "onnx", `expected-${folder}.json`), "utf8")) as {
      X: number[][];
      labels: (number | string)[];
      probabilities: number[][];
      classes: (number | string)[];
    };
    const close = (maps: Record<string, number>[]) =>
      maps.every((m, i) =>
        expected.classes.every(
          (label, k) => Math.abs(m[String(label)]! - expected.probabilities[i]![k]!) < 1e-5,
        ),
      );
    const tensors = await call(folder, "invocations", { inputs: expected.X });
    assert.equal(tensors.status, 200, JSON.stringify(tensors.body));
    assert.deepEqual(tensors.body.predictions.output_label, expected.labels);
    assert.ok(close(tensors.body.predictions.output_probability), JSON.stringify(tensors.body));
    // A DataFrame gets one record per row: {"output_label": 2, "output_probability": {"0": …, "1": …, "2": …}}.
    const frame = await call(folder, "invocations", {
      dataframe_split: { columns: ["a", "b", "c", "d"], data: expected.X },
    });
    assert.deepEqual(
      frame.body.predictions.map((r: { output_label: unknown }) => r.output_label),
      expected.labels,
    );
    assert.ok(
      close(
        frame.body.predictions.map(
          (r: { output_probability: Record<string, number> }) => r.output_probability,
        ),
      ),
    );
    // v2 has no maps: the probabilities are the tensor the ZipMap takes, with the class labels beside it.
    const v2 = await call(folder, `v2/models/${folder}-blue/infer`, {
      inputs: [{ name: "X", shape: [expected.X.length, 4], datatype: "FP32", data: expected.X.flat() }],
    });
    const probability = v2.body.outputs.find((o: { name: string }) => o.name === "output_probability");
    assert.deepEqual(
      [probability.datatype, probability.shape, probability.parameters],
      ["FP32", [expected.X.length, expected.classes.length], { classes: expected.classes }],
    );
    const metadata = await fetch(`${pier.url}/endpoints/${folder}/v2/models/${folder}-blue`, {
      headers: { authorization: `Bearer ${keys.get(folder)}` },
    });
    assert.deepEqual(((await metadata.json()) as { outputs: unknown[] }).outputs, [
      { name: "output_label", datatype: folder === "zipmap-int" ? "INT64" : "BYTES", shape: [-1] },
      { name: "output_probability", datatype: "FP32", shape: [-1, 3] },
    ]);
  }
});

test("a request that does not fit a tensor model is a 400 naming the input, what it takes and what was sent", async () => {
  const shape = await call("linear10", "score", { input_data: [[1, 2, 3]] });
  assert.equal(shape.status, 400);
  assert.equal(shape.body.error.code, "InputShapeMismatch");
  assert.match(
    shape.body.error.message,
    /Input 'input' takes float32 of shape \[-1, 10\].*sent shape \[1, 3\]/,
  );
  const mlflow = await call("linear10", "invocations", { inputs: [[1, 2, 3]] });
  assert.deepEqual([mlflow.status, mlflow.body.error_code], [400, "INVALID_PARAMETER_VALUE"]);
  assert.match(mlflow.body.message, /takes float32 of shape \[-1, 10\]/);
  const type = await call("linear10", "invocations", { inputs: [Array(10).fill("x")] });
  assert.deepEqual([type.status, type.headers.get("x-pier-error-code")], [400, "InputTypeMismatch"]);
  const missing = await call("two-dtypes", "invocations", { inputs: { x: [[1, 2, 3, 4]] } });
  assert.match(missing.body.message, /Model is missing inputs \['ids'\]/);
  const fraction = await call("two-dtypes", "invocations", {
    inputs: { x: [[1, 2, 3, 4]], ids: [[1.5, 2]] },
  });
  assert.match(fraction.body.message, /Input 'ids' takes int64 .* element 0 is 1\.5/);
  const batch = await call("fixed-batch", "score", {
    input_data: [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
  });
  assert.equal(batch.status, 400);
  assert.match(batch.body.error.message, /dimension 0 is 2, the model takes 1/);
  const v2 = await call("linear10", "v2/models/linear10-blue/infer", {
    inputs: [{ name: "input", shape: [1, 10], datatype: "FP64", data: Array(10).fill(0) }],
  });
  assert.deepEqual(
    [v2.status, v2.body],
    [400, { error: "input 'input' has datatype FP64; the model takes FP32" }],
  );

  // The doctor tells these apart from the model's own failures: the clients must change, not the model.
  const doctor = await pier.run(["doctor", "linear10", "blue"]);
  assert.equal(doctor.code, 0, doctor.stdout);
  assert.match(doctor.stdout, /InputShapeMismatch: \d+ of \d+ request\(s\) did not fit what the model takes/);
  assert.doesNotMatch(doctor.stdout, /ModelError/);
});

test("requests sent together to a tensor model share a run and each gets its own rows back", async () => {
  const rows = (n: number, seed: number) => nest(numbers(n * 10, seed), [n, 10]) as number[][];
  const requests = Array.from({ length: 24 }, (_, i) => rows(1 + (i % 4), 100 + i));
  const together = await Promise.all(requests.map((r) => call("linear10", "invocations", { inputs: r })));
  for (const [i, r] of requests.entries()) {
    const alone = await direct("linear10", {
      input: new ort.Tensor("float32", Float32Array.from(r.flat()), [r.length, 10]),
    });
    assert.deepEqual(together[i]!.body, { predictions: alone }, `request ${i}`);
  }
  // A fixed batch of 1 cannot share a run: each request runs alone, and all are answered.
  const singles = Array.from({ length: 8 }, (_, i) => numbers(4, 200 + i));
  const fixed = await Promise.all(singles.map((x) => call("fixed-batch", "score", { input_data: [x] })));
  for (const [i, x] of singles.entries()) {
    const alone = await direct("fixed-batch", { x: new ort.Tensor("float32", Float32Array.from(x), [1, 4]) });
    assert.deepEqual(fixed[i]!.body, alone.total);
  }
});

test("a model that cannot run fails at startup with ONNX Runtime's message; a signature that disagrees with the graph is refused", async () => {
  assert.equal((await pier.run(["endpoint", "create", "-n", "broken"])).code, 0);
  const file = join(work, "broken.yml");
  writeFileSync(
    file,
    stringify({
      name: "blue",
      endpoint_name: "broken",
      model: join(work, "onnx", "cannot-run"),
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    }),
  );
  const failed = await pier.run(["deployment", "create", "-f", file]);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout + failed.stderr, /ModelLoadFailed/);
  assert.match(
    failed.stdout + failed.stderr,
    /startup prediction on zeros of its declared input shapes failed/,
  );
  assert.match(failed.stdout + failed.stderr, /Reshape/);

  const refused = await pier.run([
    "model",
    "register",
    join(work, "onnx", "signature-disagrees"),
    "--name",
    "disagrees",
  ]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout + refused.stderr,
    /SignatureGraphMismatch: the signature's input 'features' is not an input of the ONNX graph/,
  );

  // The preflight lists what a model takes and a request for each route.
  const preflight = await pier.run(["doctor", "--model", join(work, "onnx", "two-dtypes")]);
  assert.match(preflight.stdout, /inputs: x float32 \[-1, 4\], ids int64 \[-1, 2\]/);
  assert.match(
    preflight.stdout,
    /request: POST …\/invocations \{"inputs":\{"x":\[\[0,0,0,0\]\],"ids":\[\[0,0\]\]\}\}/,
  );
});
