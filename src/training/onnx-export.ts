/**
 * Exports the fitted preprocessing and forest as one ONNX graph, so serving needs no Python and
 * clients send business columns:
 *
 *   8 inputs ([N] double or string) → impute/scale numbers, impute/one-hot categories
 *   → features [N, F] double → TreeEnsembleClassifier → label [N] int64, probabilities [N, 2] float
 *
 * Thresholds and leaf weights are double tensors (ai.onnx.ml opset 3), so ONNX Runtime takes the
 * same branches and sums the same numbers as the TypeScript forest.
 */

import { attr, encodeOnnxModel, type OnnxNode, type OnnxTensor } from "../model/index.js";
import type { CategoricalStep, Preprocessor } from "./features.js";
import type { Forest } from "./forest.js";

const ONNX_OPSET = 17;
const ONNX_ML_OPSET = 3;
const ONNX_IR_VERSION = 8;
export const LABEL_OUTPUT = "label";
export const PROBABILITIES_OUTPUT = "probabilities";

export interface ExportOptions {
  producerVersion: string;
  metadata: Record<string, string>;
}

const ONNX_DOUBLE = 11;

function categoryEncoder(step: CategoricalStep, input: string, output: string): OnnxNode {
  // "" (a missing value) maps to the most frequent category; unknown categories map to -1 → all zeros.
  const modeIndex = step.categories.indexOf(step.mostFrequent);
  return {
    opType: "LabelEncoder",
    domain: "ai.onnx.ml",
    name: `encode_${output}`,
    inputs: [input],
    outputs: [output],
    attributes: {
      keys_strings: attr.strings(["", ...step.categories]),
      values_int64s: attr.ints([modeIndex, ...step.categories.map((_, i) => i)]),
      default_int64: attr.int(-1),
    },
  };
}

function forestNode(forest: Forest, input: string, outputs: [string, string]): OnnxNode {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const classTreeIds: number[] = [];
  const classNodeIds: number[] = [];
  const classWeights: number[] = [];
  const treeCount = forest.trees.length;
  forest.trees.forEach((tree, t) => {
    for (let node = 0; node < tree.feature.length; node++) {
      const isLeaf = tree.feature[node]! < 0;
      treeIds.push(t);
      nodeIds.push(node);
      featureIds.push(isLeaf ? 0 : tree.feature[node]!);
      modes.push(isLeaf ? "LEAF" : "BRANCH_LEQ");
      values.push(isLeaf ? 0 : tree.threshold[node]!);
      trueIds.push(isLeaf ? 0 : tree.left[node]!);
      falseIds.push(isLeaf ? 0 : tree.right[node]!);
      if (isLeaf) {
        // Only the positive class carries a weight: ONNX Runtime then treats the ensemble as binary
        // and labels a row positive when the summed weight exceeds 0.5.
        classTreeIds.push(t);
        classNodeIds.push(node);
        classWeights.push(tree.value[node]! / treeCount);
      }
    }
  });
  return {
    opType: "TreeEnsembleClassifier",
    domain: "ai.onnx.ml",
    name: "random_forest",
    inputs: [input],
    outputs,
    attributes: {
      classlabels_int64s: attr.ints([0, 1]),
      nodes_treeids: attr.ints(treeIds),
      nodes_nodeids: attr.ints(nodeIds),
      nodes_featureids: attr.ints(featureIds),
      nodes_modes: attr.strings(modes),
      nodes_values_as_tensor: attr.tensor({ type: "double", dims: [values.length], values }),
      nodes_truenodeids: attr.ints(trueIds),
      nodes_falsenodeids: attr.ints(falseIds),
      class_treeids: attr.ints(classTreeIds),
      class_nodeids: attr.ints(classNodeIds),
      class_ids: attr.ints(classTreeIds.map(() => 1)),
      class_weights_as_tensor: attr.tensor({
        type: "double",
        dims: [classWeights.length],
        values: classWeights,
      }),
      post_transform: attr.string("NONE"),
    },
  };
}

/** Builds the model bytes for a fitted preprocessor and forest. */
export function exportForestPipeline(pre: Preprocessor, forest: Forest, options: ExportOptions): Uint8Array {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [
    { name: "axis_1", type: "int64", dims: [1], values: [1] },
    { name: "medians", type: "double", dims: [pre.numeric.length], values: pre.numeric.map((s) => s.median) },
    { name: "means", type: "double", dims: [pre.numeric.length], values: pre.numeric.map((s) => s.mean) },
    { name: "scales", type: "double", dims: [pre.numeric.length], values: pre.numeric.map((s) => s.scale) },
    { name: "slice_start", type: "int64", dims: [1], values: [1] },
    { name: "slice_end", type: "int64", dims: [1], values: [2] },
    { name: "one", type: "float", dims: [1], values: [1] },
  ];
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attributes?: OnnxNode["attributes"],
  ): string => {
    nodes.push({
      opType,
      name: `${opType}_${output}`,
      inputs,
      outputs: [output],
      ...(attributes ? { attributes } : {}),
    });
    return output;
  };

  const numericColumns = pre.numeric.map((step, j) =>
    node("Unsqueeze", [step.name, "axis_1"], `numeric_${j}`),
  );
  const numericRaw = node("Concat", numericColumns, "numeric_raw", { axis: attr.int(1) });
  const missing = node("IsNaN", [numericRaw], "numeric_missing");
  const imputedNumbers = node("Where", [missing, "medians", numericRaw], "numeric_imputed");
  const centered = node("Sub", [imputedNumbers, "means"], "numeric_centered");
  const scaled = node("Div", [centered, "scales"], "numeric_scaled");

  const oneHots = pre.categorical.map((step, j) => {
    initializers.push({
      name: `categories_${j}`,
      type: "int64",
      dims: [step.categories.length],
      values: step.categories.map((_, i) => i),
    });
    nodes.push(categoryEncoder(step, step.name, `category_index_${j}`));
    const column = node("Unsqueeze", [`category_index_${j}`, "axis_1"], `category_column_${j}`);
    const matches = node("Equal", [column, `categories_${j}`], `category_match_${j}`);
    return node("Cast", [matches], `one_hot_${j}`, { to: attr.int(ONNX_DOUBLE) });
  });
  const features = node("Concat", [scaled, ...oneHots], "features", { axis: attr.int(1) });

  nodes.push(forestNode(forest, features, [LABEL_OUTPUT, "tree_scores"]));
  const positive = node(
    "Slice",
    ["tree_scores", "slice_start", "slice_end", "axis_1"],
    "positive_probability",
  );
  const negative = node("Sub", ["one", positive], "negative_probability");
  node("Concat", [negative, positive], PROBABILITIES_OUTPUT, { axis: attr.int(1) });

  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opsets: [
      { domain: "", version: ONNX_OPSET },
      { domain: "ai.onnx.ml", version: ONNX_ML_OPSET },
    ],
    producerName: "pier",
    producerVersion: options.producerVersion,
    docString: "pier financial-behavior pipeline: imputation, scaling, one-hot encoding and a random forest",
    metadata: options.metadata,
    graph: {
      name: "financial_behavior",
      nodes,
      initializers,
      inputs: [
        ...pre.numeric.map((s) => ({ name: s.name, type: "double" as const, shape: ["N"] })),
        ...pre.categorical.map((s) => ({ name: s.name, type: "string" as const, shape: ["N"] })),
      ],
      outputs: [
        { name: LABEL_OUTPUT, type: "int64", shape: ["N"] },
        { name: PROBABILITIES_OUTPUT, type: "float", shape: ["N", 2] },
      ],
    },
  });
}
