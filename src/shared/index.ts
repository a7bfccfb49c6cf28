export {
  levelOf,
  meanBounds,
  proportionDifference,
  quantileBounds,
  wilson,
} from "./bounds.js";
export { CODES, type Code, codeInfo, isCode } from "./codes.js";
export { openPierDatabase, type PierDatabase } from "./database.js";
export {
  PierError,
  type PierErrorJson,
  toPierError,
  userError,
} from "./errors.js";
export { failpoint } from "./failpoint.js";
export {
  type Finding,
  type FixAction,
  findingLine,
  hasErrors,
  sortFindings,
} from "./findings.js";
export { ensurePierHome, resolvePierHome, securePierHome } from "./home.js";
export {
  jsonResponse,
  lineStream,
  type PierRequest,
  type PierResponse,
  pathOf,
  queryOf,
} from "./http.js";
export { type BodyRead, decodePathSegment, readBody, tooLarge } from "./http-body.js";
export { JobThread, serveJobs } from "./job-thread.js";
export { parseJson, stringifyJson } from "./json.js";
export {
  createLogger,
  isLogLevel,
  LOG_LEVELS,
  type Logger,
  silentLogger,
} from "./logger.js";
export { portHolder } from "./port-holder.js";
export { createRandom, type Random } from "./random.js";
export { RecentSamples } from "./recent-samples.js";
export { RecordTable, recordTableSql } from "./record-table.js";
export { residentBytes } from "./resident.js";
export { escapeHtml, nearestRank } from "./stats.js";
export { lowerProcessPriority, lowerThreadPriority } from "./thread-priority.js";
export { deliverFolder, regularInputFile, writableOutputFolder } from "./user-paths.js";
export { PIER_VERSION } from "./version.js";
