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
