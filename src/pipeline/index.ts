export { BANKING_COLUMNS, formatBankingDate, parseBankingDate } from "./banking-schema.js";
export { type ColumnRequirement, type CsvTable, loadCsvTable, parseCsvTable, writeCsv } from "./csv-table.js";
export {
  CATEGORICAL_INPUTS,
  deriveTarget,
  engineerInputs,
  fitPreprocessor,
  INPUT_SOURCE_COLUMNS,
  type InputColumns,
  MODEL_INPUTS,
  NUMERIC_INPUTS,
  recordAt,
  transformInputs,
} from "./features.js";
export { type Forest, type ForestParams, fitForest, labelFromProbability, predictProba } from "./forest.js";
export { classificationMetrics, rocAuc } from "./metrics.js";
export { INPUT_EXAMPLE_FILE, MODEL_FILE, SERVING_ENVIRONMENT } from "./model-package.js";
export { exportForestPipeline } from "./onnx/export.js";
export { type BankingRecord, type SynthOptions, synthesizeBankingRecords } from "./synth.js";
export {
  LEAKAGE_AUC_THRESHOLD,
  type TrainEvent,
  type TrainOptions,
  type TrainReport,
  trainFinancialModel,
} from "./train.js";
