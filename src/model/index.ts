export { enforceColumns, incompatibleInput, requireColumns, rowsToRecords } from "./enforce.js";
export { listFolderFiles } from "./folder.js";
export { type LoadableModel, type ModelLoader, modelLoader } from "./loader.js";
export {
  type ColumnSpec,
  type ColumnType,
  encodeSignature,
  MLMODEL_FILE,
  type MlModel,
  mlflowTimestamp,
  readMlModel,
  writeMlModel,
} from "./mlmodel.js";
export { namedInputColumns } from "./signature.js";
export {
  checkFolderFiles,
  requireModelFolder,
  type ValidationResult,
  validateModelStructure,
} from "./validate.js";
