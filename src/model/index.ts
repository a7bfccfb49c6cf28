export {
  castColumns,
  enforceColumns,
  rowsToRecords,
} from "./enforce.js";
export { listFolderFiles } from "./folder.js";
export {
  exampleScoreBody,
  interfaceLines,
  type ModelInterface,
  type ModelOutput,
  modelInterface,
  scoreExample,
} from "./interface.js";
export { type LoadableModel, type ModelLoader, modelLoader } from "./loader.js";
export {
  type ColumnSpec,
  encodeSignature,
  MLMODEL_FILE,
  type MlModel,
  mlflowTimestamp,
  readMlModel,
  writeMlModel,
} from "./mlmodel.js";
export { exposeTensors, type OnnxGraphInterface, readOnnxInterface } from "./onnx/graph.js";
export { attr, encodeOnnxModel, type OnnxNode, type OnnxTensor } from "./onnx/model-proto.js";
export {
  checkTensors,
  exampleRequest,
  type ModelRequest,
  requestRows,
  type TensorInputs,
  tensorsFromRecords,
  tensorsFromRows,
  tensorsFromValue,
} from "./requests.js";
export {
  type Dtype,
  dtypeOfV2,
  elementCount,
  fromNested,
  type TensorData,
  toNested,
  V2_DATATYPES,
  v2Datatype,
} from "./tensors.js";
export {
  checkFolderFiles,
  requireModelFolder,
  type ValidationResult,
  validateModelStructure,
} from "./validate.js";
