export { BANKING_COLUMNS, parseBankingDate } from "./banking-schema.js";
export { loadCsvTable, parseCsvTable, writeCsv } from "./csv-table.js";
export {
  engineerInputs,
  fitPreprocessor,
  INPUT_SOURCE_COLUMNS,
  recordAt,
  transformInputs,
} from "./features.js";
export { fitForest, predictProba } from "./forest.js";
export { rocAuc } from "./metrics.js";
export { exportForestPipeline } from "./onnx-export.js";
export { applyShifts, modelInputRows, parseShift } from "./shift.js";
export { synthesizeBankingRecords } from "./synth.js";
export {
  type Evaluation,
  heldOutRows,
  holdoutFractionOf,
  type TrainEvent,
  type TrainReport,
  trainFinancialModel,
} from "./train.js";
export { runWork } from "./work.js";
