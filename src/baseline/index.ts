export { baselineOf, baselineOfCsv } from "./build.js";
export {
  BASELINE_FILE,
  BASELINE_SCHEMA,
  type Baseline,
  binCounts,
  type CategoryProfile,
  type ColumnProfile,
  categoryOf,
  histogramCounts,
  type NumberProfile,
  OTHER_CATEGORY,
  profileCategories,
  profileNumbers,
  quantileOf,
  sortedNumbers,
} from "./profile.js";
