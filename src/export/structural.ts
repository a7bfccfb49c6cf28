/**
 * Validation of a document against a CRD's structural schema (OpenAPI v3, as Kubernetes' API server
 * reads it), interpreted over the document instead of compiled: KServe's InferenceService schema is
 * 600 KB of JSON that a schema compiler turned into 10 MB of code and seconds of work, while walking
 * the document touches only the part of the schema the document uses. Unknown fields are errors, as
 * `kubectl apply` makes them by default (field validation Strict), unless the schema preserves them.
 */

export interface StructuralSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  required?: string[];
  items?: StructuralSchema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  anyOf?: StructuralSchema[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
}

export interface StructuralError {
  /** A JSON pointer into the document. */
  path: string;
  message: string;
}

/** ObjectMeta's fields a manifest may set (the API server validates metadata itself, not the CRD). */
const OBJECT_META = new Set([
  "name",
  "generateName",
  "namespace",
  "labels",
  "annotations",
  "finalizers",
  "ownerReferences",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
]);

const INT32 = 2 ** 31;
const patterns = new Map<string, RegExp>();

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

const show = (value: unknown) => JSON.stringify(value)?.slice(0, 80) ?? String(value);

/** The document's errors against `schema`, each at its path; none when it would be admitted. */
export function validateStructural(schema: StructuralSchema, document: unknown): StructuralError[] {
  const errors: StructuralError[] = [];
  walk(schema, document, "", errors, true);
  return errors;
}

function walk(
  schema: StructuralSchema,
  value: unknown,
  path: string,
  errors: StructuralError[],
  root = false,
): void {
  const at = path || "/";
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined)
      errors.push({ path: at, message: `must be of type ${schema.type}, not null` });
    return;
  }
  const actual = typeOf(value);
  if (schema["x-kubernetes-int-or-string"]) {
    // An integer, or a string that then meets the string rules (a quantity's pattern).
    if (actual !== "integer" && actual !== "string") {
      errors.push({ path: at, message: `must be an integer or a string, not ${actual} (${show(value)})` });
      return;
    }
  } else if (schema.type) {
    const fits = schema.type === actual || (schema.type === "number" && actual === "integer");
    if (!fits) {
      errors.push({ path: at, message: `must be of type ${schema.type}, not ${actual} (${show(value)})` });
      return;
    }
  }
  if (schema.enum && !schema.enum.some((allowed) => allowed === value))
    errors.push({
      path: at,
      message: `must be one of ${schema.enum.map(show).join(", ")}, not ${show(value)}`,
    });
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push({ path: at, message: `must be at least ${schema.minLength} characters` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push({ path: at, message: `must be at most ${schema.maxLength} characters` });
    if (schema.pattern) {
      let pattern = patterns.get(schema.pattern);
      if (!pattern) {
        pattern = new RegExp(schema.pattern, "u");
        patterns.set(schema.pattern, pattern);
      }
      if (!pattern.test(value))
        errors.push({ path: at, message: `must match ${schema.pattern}, not ${show(value)}` });
    }
  } else if (typeof value === "number") {
    if (schema.format === "int32" && (value >= INT32 || value < -INT32))
      errors.push({ path: at, message: `${value} does not fit in int32` });
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push({ path: at, message: `must be >= ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push({ path: at, message: `must be <= ${schema.maximum}` });
  } else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push({ path: at, message: `must have at least ${schema.minItems} items` });
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push({ path: at, message: `must have at most ${schema.maxItems} items` });
    if (schema.items)
      for (const [i, item] of value.entries()) walk(schema.items, item, `${path}/${i}`, errors);
    duplicates(schema, value, path, errors);
  } else if (typeof value === "object") {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? [])
      if (object[name] === undefined)
        errors.push({ path: at, message: `must have required property '${name}'` });
    for (const [name, field] of Object.entries(object)) {
      const where = `${path}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      const declared = schema.properties?.[name];
      if (declared) {
        if (root && name === "metadata") metadata(field, where, errors);
        else walk(declared, field, where, errors);
      } else if (typeof schema.additionalProperties === "object")
        walk(schema.additionalProperties, field, where, errors);
      else if (schema.additionalProperties !== true && !schema["x-kubernetes-preserve-unknown-fields"])
        errors.push({
          path: where,
          message: `unknown field "${name}" (kubectl apply refuses it: its field validation is Strict by default)`,
        });
    }
  }
}

function metadata(value: unknown, path: string, errors: StructuralError[]): void {
  if (typeOf(value) !== "object") {
    errors.push({ path, message: "must be of type object" });
    return;
  }
  for (const name of Object.keys(value as object))
    if (!OBJECT_META.has(name))
      errors.push({ path: `${path}/${name}`, message: `unknown field "${name}" in ObjectMeta` });
}

/** A list of type set has no repeated item; one of type map no two items with the same keys. */
function duplicates(
  schema: StructuralSchema,
  items: unknown[],
  path: string,
  errors: StructuralError[],
): void {
  const type = schema["x-kubernetes-list-type"];
  if (type !== "set" && type !== "map") return;
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const key =
      type === "set"
        ? JSON.stringify(item)
        : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k] ?? null));
    const first = seen.get(key);
    if (first !== undefined)
      errors.push({
        path: `${path}/${i}`,
        message: `duplicate ${type === "set" ? "value" : `entry for ${keys.join(", ")}`} (item ${first} has it)`,
      });
    else seen.set(key, i);
  });
}
