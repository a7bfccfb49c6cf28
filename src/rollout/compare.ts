/**
 * Two deployments' answers to the same request, compared output by output: labels flip or not, scores
 * move by a relative |Δ|. Answers come as the instances give them (a list of records, columns, a bare
 * list, a nested list, `{"predictions": …}`), so two models of different hosts still compare.
 */

/** One output's values, flattened in row order, and whether they are labels or scores. */
type Outputs = Map<string, (number | string | boolean | null)[]>;

/** What an output holds, from the model's declared outputs when it declares them. */
export type OutputKind = "label" | "score";

/** The unnamed output of an answer that is a bare list or a single value. */
const UNNAMED = "(value)";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** A value's scalars in order: lists in order, maps (a ZipMap's class → probability) by sorted key. */
function flatten(value: unknown, into: (number | string | boolean | null)[]): boolean {
  if (Array.isArray(value)) return value.every((v) => flatten(v, into));
  if (isRecord(value))
    return Object.keys(value)
      .sort()
      .every((key) => flatten(value[key], into));
  if (
    value === null ||
    typeof value === "number" ||
    typeof value === "string" ||
    typeof value === "boolean"
  ) {
    into.push(value);
    return true;
  }
  return false;
}

/** An answer's outputs by name; undefined when it has a shape pier cannot read as outputs. */
export function outputsOf(answer: unknown): Outputs | undefined {
  // {"predictions": …} (MLflow's wrapper) holds the answer itself.
  if (isRecord(answer) && Object.keys(answer).length === 1 && "predictions" in answer)
    answer = answer.predictions;
  const outputs: Outputs = new Map();
  if (Array.isArray(answer) && answer.length > 0 && answer.every(isRecord)) {
    // Records: one object per row.
    for (const row of answer as Record<string, unknown>[])
      for (const [name, value] of Object.entries(row)) {
        const values = outputs.get(name) ?? [];
        if (!flatten(value, values)) return undefined;
        outputs.set(name, values);
      }
    return outputs;
  }
  if (isRecord(answer)) {
    // Columns: one list per output.
    for (const [name, value] of Object.entries(answer)) {
      const values: (number | string | boolean | null)[] = [];
      if (!flatten(value, values)) return undefined;
      outputs.set(name, values);
    }
    return outputs;
  }
  const values: (number | string | boolean | null)[] = [];
  if (!flatten(answer, values)) return undefined;
  outputs.set(UNNAMED, values);
  return outputs;
}

/** One compared pair of answers: per output, the label flips or the scores' relative |Δ|s. */
export type Comparison =
  | {
      comparable: true;
      outputs: { name: string; kind: OutputKind; flips: number; values: number; deltas: number[] }[];
    }
  | { comparable: false; why: string };

/** |a − b| / max(|a|, |b|, 1): absolute for values within ±1 (probabilities), relative above. */
const relativeDelta = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1);

function kindOf(
  name: string,
  a: readonly unknown[],
  b: readonly unknown[],
  declared: ReadonlyMap<string, OutputKind>,
): OutputKind {
  const known = declared.get(name);
  if (known) return known;
  const all = [...a, ...b];
  if (all.every((v) => typeof v === "number" && Number.isInteger(v))) return "label";
  return all.every((v) => typeof v === "number") ? "score" : "label";
}

/**
 * Compares the stable's answer with the new one's. Outputs are paired by name; an answer with one
 * unnamed output (a model that answers only its labels) is paired with the other's first output.
 */
export function compareAnswers(
  stableText: string,
  candidateText: string,
  declared: ReadonlyMap<string, OutputKind> = new Map(),
): Comparison {
  let stable: Outputs | undefined;
  let candidate: Outputs | undefined;
  try {
    stable = outputsOf(JSON.parse(stableText));
    candidate = outputsOf(JSON.parse(candidateText));
  } catch {
    return stableText === candidateText
      ? { comparable: true, outputs: [] }
      : { comparable: false, why: "the answers are not JSON and differ" };
  }
  if (!stable || !candidate)
    return { comparable: false, why: "an answer is not a list, records or columns of values" };
  let pairs = [...stable.keys()].filter((name) => candidate.has(name)).map((name) => [name, name] as const);
  if (pairs.length === 0) {
    const [first] = stable.keys();
    const [firstNew] = candidate.keys();
    if (stable.has(UNNAMED) && firstNew !== undefined) pairs = [[UNNAMED, firstNew]];
    else if (candidate.has(UNNAMED) && first !== undefined) pairs = [[first, UNNAMED]];
    else
      return {
        comparable: false,
        why: `the answers have different outputs: [${[...stable.keys()].join(", ")}] vs [${[...candidate.keys()].join(", ")}]`,
      };
  }
  const outputs: Extract<Comparison, { comparable: true }>["outputs"] = [];
  for (const [stableName, candidateName] of pairs) {
    const a = stable.get(stableName)!;
    const b = candidate.get(candidateName)!;
    const name = stableName === UNNAMED ? candidateName : stableName;
    if (a.length !== b.length)
      return {
        comparable: false,
        why: `output ${name} has ${a.length} values in the stable answer and ${b.length} in the new one`,
      };
    const kind = kindOf(name, a, b, declared);
    let flips = 0;
    const deltas: number[] = [];
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (kind === "score" && typeof x === "number" && typeof y === "number")
        deltas.push(relativeDelta(x, y));
      else if (x !== y) flips++;
    }
    outputs.push({ name, kind, flips, values: a.length, deltas });
  }
  return { comparable: true, outputs };
}
