/**
 * Triton's config.pbtxt written from ONNX graphs as other exporters make them (test/tools/make_onnx.py:
 * torch.onnx.export, tf2onnx, skl2onnx with a ZipMap), and checked against the graph it describes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  checkTritonConfig,
  configText,
  parseConfigText,
  tritonConfig,
} from "../../src/export/triton-config.js";
import { readOnnxInterface } from "../../src/model/index.js";
import { REPO_ROOT, tempDir } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";

test("config.pbtxt from the graph: batching when every tensor has a free first dimension, shapes as they are otherwise, ZipMaps named", (t) => {
  const out = tempDir(t);
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_onnx.py"), out]);
  const graph = (name: string) => readOnnxInterface(readFileSync(join(out, name, "model.onnx")));

  // PyTorch's Linear(10, 1): input [batch, 10] → output [batch, 1].
  const linear = tritonConfig("linear10", graph("linear10"));
  assert.equal(linear.max_batch_size, 64);
  assert.deepEqual(linear.input, [{ name: "input", data_type: "TYPE_FP32", dims: [10] }]);
  assert.deepEqual(linear.output, [{ name: "output", data_type: "TYPE_FP32", dims: [1] }]);
  const text = configText(linear);
  assert.match(text, /^platform: "onnxruntime_onnx"$/m);
  assert.match(text, /^dynamic_batching \{ \}$/m);
  const { leftOut: _, ...written } = linear;
  assert.deepEqual(parseConfigText(text), written, "the text reads back as written");
  assert.deepEqual(checkTritonConfig(text, graph("linear10"), "linear10"), []);

  // A fixed batch of one: no batching, dims as the graph says.
  const fixed = tritonConfig("fixed-batch", graph("fixed-batch"));
  assert.equal(fixed.max_batch_size, 0);
  assert.deepEqual(fixed.input[0]!.dims, [1, 4]);

  // Strings and booleans by Triton's names.
  const typed = tritonConfig("int-string", graph("int-string"));
  assert.deepEqual(
    typed.input.map((i) => i.data_type),
    ["TYPE_STRING", "TYPE_INT64"],
  );

  // skl2onnx's classifier: the ZipMap output is a sequence of maps Triton cannot return.
  const zipmap = tritonConfig("zipmap-int", graph("zipmap-int"));
  assert.deepEqual(
    zipmap.output.map((o) => o.name),
    ["output_label"],
  );
  assert.match(
    zipmap.leftOut[0]!,
    /^output output_probability \(ZipMap: a sequence of maps; its probabilities are probabilities\)$/,
  );
  assert.equal(zipmap.max_batch_size, 0, "output_label is 1-D: no batch dimension of its own");
});

test("a config that disagrees with its graph is named as Triton would refuse it", (t) => {
  const out = tempDir(t);
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_onnx.py"), out]);
  const graph = readOnnxInterface(readFileSync(join(out, "linear10", "model.onnx")));
  const good = configText(tritonConfig("linear10", graph));
  const problems = checkTritonConfig(
    good
      .replace("TYPE_FP32", "TYPE_FP64")
      .replace("dims: [ 10 ]", "dims: [ 12 ]")
      .replace('"output"', '"out"'),
    graph,
    "linear",
  );
  assert.deepEqual(problems, [
    'name "linear10" is not the model\'s folder name "linear"',
    "input input: data_type TYPE_FP64, the graph has TYPE_FP32",
    "input input: dims [12], the graph has [10] after the batch dimension",
    "output out is not in the graph (output)",
  ]);
  // Batching a graph whose tensors have no batch dimension.
  const fixed = readOnnxInterface(readFileSync(join(out, "fixed-batch", "model.onnx")));
  const batched = configText(tritonConfig("fixed-batch", fixed)).replace(
    "max_batch_size: 0",
    "max_batch_size: 8",
  );
  assert.match(
    checkTritonConfig(batched, fixed, "fixed-batch")[0]!,
    /max_batch_size 8: the graph has a tensor without a free first/,
  );
});
