/**
 * A random forest classifier for binary targets: CART trees (Gini, best split over a random subset
 * of features, as scikit-learn's RandomForestClassifier), bootstrap samples as integer weights, and
 * "balanced" / "balanced_subsample" class weights.
 *
 * Speed comes from sorting each feature once per fit and keeping, for every tree, one sorted index
 * list per feature that is partitioned stably at each split, so finding a split is a linear sweep.
 */
import { createRandom, type Random } from "../shared/index.js";

export type ClassWeight = "balanced" | "balanced_subsample" | null;

export interface ForestParams {
  nEstimators: number;
  /** null grows until leaves are pure or too small. */
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  bootstrap: boolean;
  classWeight: ClassWeight;
  /** Features considered per split; "sqrt" as scikit-learn's classifier default. */
  maxFeatures: number | "sqrt";
}

/** One tree as parallel arrays; `feature[i] === -1` marks a leaf whose positive-class share is `value[i]`. */
export interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface Forest {
  params: ForestParams;
  featureCount: number;
  trees: Tree[];
}

/** The matrix a forest trains on: row-major values, `featureCount` per row. */
export interface Matrix {
  values: Float64Array;
  featureCount: number;
}

/**
 * Fits a forest on `rows` (indices into `matrix`) with labels `y` (indexed like the matrix).
 * Deterministic for a seed.
 */
export function fitForest(
  matrix: Matrix,
  y: Uint8Array,
  rows: ArrayLike<number>,
  params: ForestParams,
  seed: number,
): Forest {
  const random = createRandom(seed);
  const d = matrix.featureCount;
  const n = rows.length;
  // Column-major copy of the fit rows, and their labels, indexed by position 0..n-1.
  const columns = new Float64Array(d * n);
  const labels = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const row = rows[p]!;
    labels[p] = y[row]!;
    for (let f = 0; f < d; f++) columns[f * n + p] = matrix.values[row * d + f]!;
  }
  const sorted = new Int32Array(d * n);
  for (let f = 0; f < d; f++) {
    const order = Array.from({ length: n }, (_, p) => p);
    order.sort((a, b) => columns[f * n + a]! - columns[f * n + b]! || a - b);
    sorted.set(order, f * n);
  }
  const classWeights = params.classWeight === "balanced" ? balancedWeights(labels, null) : ([1, 1] as const);
  const mtry =
    params.maxFeatures === "sqrt" ? Math.max(1, Math.floor(Math.sqrt(d))) : Math.min(d, params.maxFeatures);
  const trees: Tree[] = [];
  for (let t = 0; t < params.nEstimators; t++) {
    const treeRandom = random.fork();
    const counts = new Float64Array(n);
    if (params.bootstrap) for (let i = 0; i < n; i++) counts[Math.floor(treeRandom.next() * n)]! += 1;
    else counts.fill(1);
    const weights =
      params.classWeight === "balanced_subsample" ? balancedWeights(labels, counts) : classWeights;
    trees.push(
      growTree({ columns, labels, sorted, counts, weights, n, d, mtry, params, random: treeRandom }),
    );
  }
  return { params, featureCount: d, trees };
}

function balancedWeights(labels: Uint8Array, counts: Float64Array | null): readonly [number, number] {
  const perClass = [0, 0];
  let total = 0;
  for (let p = 0; p < labels.length; p++) {
    const c = counts ? counts[p]! : 1;
    perClass[labels[p]!]! += c;
    total += c;
  }
  return [
    perClass[0]! > 0 ? total / (2 * perClass[0]!) : 1,
    perClass[1]! > 0 ? total / (2 * perClass[1]!) : 1,
  ];
}

interface GrowContext {
  columns: Float64Array;
  labels: Uint8Array;
  sorted: Int32Array;
  counts: Float64Array;
  weights: readonly [number, number];
  n: number;
  d: number;
  mtry: number;
  params: ForestParams;
  random: Random;
}

function growTree(ctx: GrowContext): Tree {
  const { columns, labels, counts, weights, n, d, mtry, params, random } = ctx;
  // In-bag positions, one sorted list per feature (same set, different order).
  let m = 0;
  for (let p = 0; p < n; p++) if (counts[p]! > 0) m++;
  const order = new Int32Array(d * m);
  for (let f = 0; f < d; f++) {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const p = ctx.sorted[f * n + i]!;
      if (counts[p]! > 0) order[f * m + k++] = p;
    }
  }
  const sampleWeight = new Float64Array(n);
  for (let p = 0; p < n; p++) sampleWeight[p] = counts[p]! * weights[labels[p]!]!;
  const goesLeft = new Uint8Array(n);
  const scratch = new Int32Array(m);
  const featureOrder = Int32Array.from({ length: d }, (_, f) => f);

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const newNode = (): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    value.push(0);
    return feature.length - 1;
  };

  const maxDepth = params.maxDepth ?? Number.POSITIVE_INFINITY;
  const stack: { node: number; start: number; end: number; depth: number }[] = [
    { node: newNode(), start: 0, end: m, depth: 0 },
  ];
  while (stack.length > 0) {
    const { node, start, end, depth } = stack.pop()!;
    let w0 = 0;
    let w1 = 0;
    for (let i = start; i < end; i++) {
      const p = order[i]!;
      if (labels[p] === 1) w1 += sampleWeight[p]!;
      else w0 += sampleWeight[p]!;
    }
    value[node] = w0 + w1 > 0 ? w1 / (w0 + w1) : 0;
    const size = end - start;
    if (
      depth >= maxDepth ||
      size < params.minSamplesSplit ||
      size < 2 * params.minSamplesLeaf ||
      w0 === 0 ||
      w1 === 0
    ) {
      continue;
    }

    let bestFeature = -1;
    let bestProxy = Number.NEGATIVE_INFINITY;
    let bestThreshold = 0;
    let bestLeftSize = 0;
    // Draw features without replacement until `mtry` non-constant ones were examined.
    let examined = 0;
    for (let k = 0; k < d && examined < mtry; k++) {
      const swap = k + Math.floor(random.next() * (d - k));
      const f = featureOrder[swap]!;
      featureOrder[swap] = featureOrder[k]!;
      featureOrder[k] = f;
      const base = f * m;
      const column = f * n;
      if (columns[column + order[base + start]!]! === columns[column + order[base + end - 1]!]!) continue;
      examined++;
      let l0 = 0;
      let l1 = 0;
      for (let i = start; i < end - 1; i++) {
        const p = order[base + i]!;
        if (labels[p] === 1) l1 += sampleWeight[p]!;
        else l0 += sampleWeight[p]!;
        const leftSize = i - start + 1;
        if (leftSize < params.minSamplesLeaf) continue;
        if (size - leftSize < params.minSamplesLeaf) break;
        const x = columns[column + p]!;
        const next = columns[column + order[base + i + 1]!]!;
        if (x === next) continue;
        const r0 = w0 - l0;
        const r1 = w1 - l1;
        const lw = l0 + l1;
        const rw = r0 + r1;
        if (lw <= 0 || rw <= 0) continue;
        const proxy = (l0 * l0 + l1 * l1) / lw + (r0 * r0 + r1 * r1) / rw;
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestFeature = f;
          bestLeftSize = leftSize;
          const mid = x / 2 + next / 2;
          bestThreshold = mid >= next ? x : mid;
        }
      }
    }
    if (bestFeature < 0) continue;

    // Partition every feature's list stably into left then right.
    const bestBase = bestFeature * m;
    for (let i = start; i < end; i++) goesLeft[order[bestBase + i]!] = i - start < bestLeftSize ? 1 : 0;
    for (let f = 0; f < d; f++) {
      const base = f * m;
      let l = start;
      let r = 0;
      for (let i = start; i < end; i++) {
        const p = order[base + i]!;
        if (goesLeft[p]) order[base + l++] = p;
        else scratch[r++] = p;
      }
      order.set(scratch.subarray(0, r), base + l);
    }
    feature[node] = bestFeature;
    threshold[node] = bestThreshold;
    const leftNode = newNode();
    const rightNode = newNode();
    left[node] = leftNode;
    right[node] = rightNode;
    const mid = start + bestLeftSize;
    stack.push({ node: rightNode, start: mid, end, depth: depth + 1 });
    stack.push({ node: leftNode, start, end: mid, depth: depth + 1 });
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}

/** The leaf a row falls into; `x <= threshold` goes left, as in scikit-learn and ONNX BRANCH_LEQ. */
function leafOf(tree: Tree, values: Float64Array, offset: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    node =
      values[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

/**
 * Positive-class probability per row: the mean of the trees' leaf shares, summed tree by tree in
 * order (each share pre-divided by the tree count), the same arithmetic the exported ONNX graph does.
 */
export function predictProba(forest: Forest, matrix: Matrix, rows?: ArrayLike<number>): Float64Array {
  const count = rows ? rows.length : matrix.values.length / matrix.featureCount;
  const out = new Float64Array(count);
  const scale = forest.trees.length;
  for (let i = 0; i < count; i++) {
    const offset = (rows ? rows[i]! : i) * matrix.featureCount;
    let sum = 0;
    for (const tree of forest.trees) sum += tree.value[leafOf(tree, matrix.values, offset)]! / scale;
    out[i] = sum;
  }
  return out;
}

/** The predicted label: positive when its probability is above one half (ties go to the negative class). */
export const labelFromProbability = (p: number): 0 | 1 => (p > 0.5 ? 1 : 0);

export function nodeCount(forest: Forest): number {
  return forest.trees.reduce((sum, tree) => sum + tree.feature.length, 0);
}
