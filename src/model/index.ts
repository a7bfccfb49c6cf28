export {
  type ColumnSpec,
  type ColumnType,
  encodeSignature,
  MLMODEL_FILE,
  type MlModel,
  type ModelSignature,
  mlflowTimestamp,
  readMlModel,
  type SchemaEntry,
  type TensorSpec,
  writeMlModel,
} from "./mlmodel.js";
export { namedInputColumns, parseSchema, valueFitsColumn } from "./signature.js";
export { requireModelFolder, type ValidationResult, validateModelDir } from "./validate.js";
