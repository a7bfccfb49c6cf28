export { CODES, type Code, type CodeClass, type CodeInfo, codeInfo, isCode } from "./codes.js";
export { DATABASE_FILE, type Migration, openPierDatabase, type PierDatabase } from "./database.js";
export {
  type ErrorData,
  PierError,
  type PierErrorInit,
  type PierErrorJson,
  toPierError,
  userError,
} from "./errors.js";
export { failpoint } from "./failpoint.js";
export {
  type Finding,
  type FindingSubject,
  type FixAction,
  findingLine,
  hasErrors,
  type Severity,
  sortFindings,
} from "./findings.js";
export { ensurePierHome, resolvePierHome } from "./home.js";
export {
  createLogger,
  isLogLevel,
  LOG_LEVELS,
  type LogFields,
  type LogFormat,
  type Logger,
  type LogLevel,
  parseLogLevel,
  silentLogger,
} from "./logger.js";
export { portHolder } from "./port-holder.js";
export { createRandom, type Random } from "./random.js";
export { RecentSamples } from "./recent-samples.js";
export { PIER_VERSION } from "./version.js";
