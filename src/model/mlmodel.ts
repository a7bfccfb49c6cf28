/**
 * The MLmodel file of an MLflow model directory and its signature (column and tensor specs).
 * Signature parts are JSON strings inside the YAML, as MLflow writes them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";

export type ColumnType =
  | "boolean"
  | "integer"
  | "long"
  | "float"
  | "double"
  | "string"
  | "binary"
  | "datetime";

export interface ColumnSpec {
  type: ColumnType;
  name?: string | number;
  required?: boolean;
}

export interface TensorSpec {
  type: "tensor";
  name?: string;
  "tensor-spec": { dtype: string; shape: number[] };
}

export type SchemaEntry = ColumnSpec | TensorSpec;

export interface ModelSignature {
  inputs: SchemaEntry[] | null;
  outputs: SchemaEntry[] | null;
  params?: unknown[] | null;
}

export interface MlModel {
  flavors: Record<string, Record<string, unknown>>;
  artifact_path?: string;
  run_id?: string;
  model_uuid?: string;
  mlflow_version?: string;
  utc_time_created?: string;
  signature?: { inputs?: string | null; outputs?: string | null; params?: string | null };
  saved_input_example_info?: { artifact_path: string; type: string; pandas_orient?: string };
  model_size_bytes?: number;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export const MLMODEL_FILE = "MLmodel";

/** The time format MLflow writes: '2024-05-01 12:00:00.123456'. */
export function mlflowTimestamp(date: Date): string {
  return `${date.toISOString().replace("T", " ").replace("Z", "")}000`;
}

export function encodeSignature(signature: ModelSignature): NonNullable<MlModel["signature"]> {
  return {
    inputs: signature.inputs ? JSON.stringify(signature.inputs) : null,
    outputs: signature.outputs ? JSON.stringify(signature.outputs) : null,
    params: signature.params ? JSON.stringify(signature.params) : null,
  };
}

export function writeMlModel(dir: string, model: MlModel): void {
  writeFileSync(join(dir, MLMODEL_FILE), stringify(model, { lineWidth: 0 }));
}

export function readMlModel(dir: string): MlModel {
  return parse(readFileSync(join(dir, MLMODEL_FILE), "utf8")) as MlModel;
}
