/** One injected logger for library code; the level comes from PIER_LOG (error|warn|info|debug). */

export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

const LEVEL_RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  if (value === undefined || value === "") return fallback;
  const lower = value.toLowerCase();
  return lower in LEVEL_RANK ? (lower as LogLevel) : fallback;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env.PIER_LOG);
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (at: Exclude<LogLevel, "silent">) => (message: string) => {
    if (LEVEL_RANK[at] <= LEVEL_RANK[level]) write(at === "info" ? message : `[${at}] ${message}`);
  };
  return { level, error: emit("error"), warn: emit("warn"), info: emit("info"), debug: emit("debug") };
}
