/** Checks an MLflow signature's structure (mlflow/types/schema.py rules) and parses it. */
import type { SchemaEntry } from "./mlmodel.js";

const COLUMN_TYPES = new Set([
  "boolean",
  "integer",
  "long",
  "float",
  "double",
  "string",
  "binary",
  "datetime",
  "array",
  "object",
  "map",
  "any",
]);

/** Parses one signature part (a JSON string); returns the entries or a description of what is wrong. */
export function parseSchema(text: unknown): { entries: SchemaEntry[] } | { problem: string } {
  if (typeof text !== "string") return { problem: "is not a JSON string" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `is not valid JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(value) || value.length === 0) return { problem: "must be a non-empty JSON list" };
  let tensors = 0;
  let named = 0;
  for (const [i, entry] of value.entries()) {
    if (!entry || typeof entry !== "object") return { problem: `entry ${i} is not an object` };
    const e = entry as Record<string, unknown>;
    if (e.name !== undefined && e.name !== null) named++;
    if (e.type === "tensor") {
      tensors++;
      const spec = e["tensor-spec"] as { dtype?: unknown; shape?: unknown } | undefined;
      if (!spec || typeof spec.dtype !== "string" || !Array.isArray(spec.shape)) {
        return { problem: `entry ${i} is a tensor without a tensor-spec {dtype, shape}` };
      }
    } else if (typeof e.type !== "string" || !COLUMN_TYPES.has(e.type)) {
      return { problem: `entry ${i} has type ${JSON.stringify(e.type)}, which is not an MLflow type` };
    }
  }
  if (tensors > 0 && tensors < value.length) return { problem: "mixes column and tensor specs" };
  if (named > 0 && named < value.length) return { problem: "names some entries but not all" };
  if (tensors > 1 && named === 0) return { problem: "has more than one unnamed tensor" };
  return { entries: value as SchemaEntry[] };
}

/** Whether a JSON value can go into a column of MLflow type `type` (safe conversions only). */
export function valueFitsColumn(value: unknown, type: string): boolean {
  if (value === null || value === undefined) return true;
  switch (type) {
    case "double":
    case "float":
      return typeof value === "number";
    case "integer":
    case "long":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "string":
    case "binary":
    case "datetime":
      return typeof value === "string";
    default:
      return true;
  }
}
