/**
 * One injected logger for library code, for what `pier up` does over time (instances starting and
 * ending, deployments succeeding or failing, API calls at debug). The level comes from
 * `pier up --log-level` or PIER_LOG (error|warn|info|debug|silent); lines are text for people or,
 * with --log-format json, one JSON object per line for tools.
 */

export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const LEVEL_RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface Logger {
  readonly level: LogLevel;
  /** Whether a line at `level` would be written (to skip building costly fields). */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  now?: () => Date;
}

export const LOG_LEVELS = Object.keys(LEVEL_RANK) as LogLevel[];

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVEL_RANK, value);
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  const lower = value?.toLowerCase() ?? "";
  return isLogLevel(lower) ? lower : fallback;
}

const quote = (value: string) => (/[\s="]/.test(value) ? JSON.stringify(value) : value);

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env.PIER_LOG);
  const format = options.format ?? "text";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const enabled = (at: Exclude<LogLevel, "silent">) => LEVEL_RANK[at] <= LEVEL_RANK[level];
  const emit =
    (at: Exclude<LogLevel, "silent">) =>
    (message: string, fields: LogFields = {}) => {
      if (!enabled(at)) return;
      const present = Object.entries(fields).filter(([, v]) => v !== undefined);
      if (format === "json") {
        write(
          JSON.stringify({
            time: now().toISOString(),
            level: at,
            msg: message,
            ...Object.fromEntries(present),
          }),
        );
        return;
      }
      const tail = present.map(([k, v]) => `${k}=${quote(String(v))}`).join(" ");
      write(`${now().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}${tail ? ` ${tail}` : ""}`);
    };
  return {
    level,
    enabled,
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    debug: emit("debug"),
  };
}

/** A logger that writes nothing (library code run outside `pier up`, tests). */
export const silentLogger: Logger = createLogger({ level: "silent" });
