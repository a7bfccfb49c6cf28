import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureDefaultWorkload, tryDefaultEndpoint, UP_FILE, type UpInfo } from "../../api/index.js";
import { createPier, DEFAULT_HTTP_LIMITS } from "../../app/index.js";
import { loadAlertSettings } from "../../monitor/index.js";
import {
  createLogger,
  ensurePierHome,
  isLogLevel,
  LOG_LEVELS,
  type Logger,
  securePierHome,
  userError,
} from "../../shared/index.js";
import { defineCommand, intOption, pierHome } from "../command.js";
import { progressLine } from "./api-common.js";

const DEFAULT_PORT = 8700;

/** The logger of pier up, from --log-level (or PIER_LOG) and --log-format. */
function upLogger(
  levelOption: string | undefined,
  formatOption: string | undefined,
  env: NodeJS.ProcessEnv,
): Logger {
  const level = levelOption ?? env.PIER_LOG ?? "info";
  if (!isLogLevel(level))
    throw userError(
      "BadOptionValue",
      `--log-level must be one of ${LOG_LEVELS.join(", ")}, got '${level}'`,
      "Pass e.g. --log-level debug.",
    );
  const format = formatOption ?? "text";
  if (format !== "text" && format !== "json")
    throw userError(
      "BadOptionValue",
      `--log-format must be text or json, got '${format}'`,
      "Pass --log-format json.",
    );
  return createLogger({ level, format });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Whether process `pid` is alive and runs pier (its command line names pier.js or pier). */
function isPier(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    return /\bpier(\.js)?\b/.test(command) && /\bup\b/.test(command);
  } catch {
    return true; // no /proc to read: trust the pid
  }
}

/** How long a stop waits for the requests in flight (Azure's request_timeout_ms is at most 180 s; most are 5). */
const GRACE_MS = 30_000;

export const up = defineCommand({
  path: ["up"],
  summary:
    "Run pier: management API, gateway and engine; on an empty home, train and deploy the default model",
  options: {
    port: {
      type: "string",
      valueName: "N",
      description: `port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 = any free port)`,
    },
    "no-default-model": {
      type: "boolean",
      description: "do not create the default endpoint fin-behavior when it does not exist",
    },
    "log-level": {
      type: "string",
      valueName: "LEVEL",
      description: `what pier up logs to stderr as it runs: ${LOG_LEVELS.join(", ")} (default info, or PIER_LOG)`,
    },
    "log-format": {
      type: "string",
      valueName: "text|json",
      description: "log lines for people (text, the default) or one JSON object per line",
    },
    alerts: {
      type: "string",
      valueName: "FILE.yml",
      description: "alert rules and webhook (added to the built-in rules; default PIER_ALERTS)",
    },
    "allowed-host": {
      type: "string",
      multiple: true,
      valueName: "NAME",
      description:
        "a Host name the dashboard, /metrics and the management API answer besides 127.0.0.1 and localhost",
    },
    "header-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: `how long a request's headers may take to arrive (408 after; default ${DEFAULT_HTTP_LIMITS.headerTimeoutMs / 1000})`,
    },
    "body-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: `how long a request's body may take to arrive (408 after; default ${DEFAULT_HTTP_LIMITS.bodyTimeoutMs / 1000})`,
    },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: `connections at once, all clients (429 past it; default ${DEFAULT_HTTP_LIMITS.maxConnections})`,
    },
    "max-connections-per-client": {
      type: "string",
      valueName: "N",
      description: `connections at once from one address (429 past it; default ${DEFAULT_HTTP_LIMITS.maxConnectionsPerClient})`,
    },
  },
  examples: ["pier up", "pier up --port 9000 --no-default-model", "pier up --alerts alerts.yml"],
  async handler(args, ctx) {
    // The command line is checked before anything is created.
    const logger = upLogger(args.options["log-level"], args.options["log-format"], ctx.env);
    const port = intOption(args.options.port, "port", { min: 0, max: 65535 }) ?? DEFAULT_PORT;
    const seconds = (name: "header-timeout" | "body-timeout") => {
      const value = intOption(args.options[name], name, { min: 1, max: 3600 });
      return value === undefined
        ? {}
        : { [name === "header-timeout" ? "headerTimeoutMs" : "bodyTimeoutMs"]: value * 1000 };
    };
    const count = (name: "max-connections" | "max-connections-per-client") => {
      const value = intOption(args.options[name], name, { min: 1, max: 100_000 });
      return value === undefined
        ? {}
        : { [name === "max-connections" ? "maxConnections" : "maxConnectionsPerClient"]: value };
    };
    const http = {
      ...seconds("header-timeout"),
      ...seconds("body-timeout"),
      ...count("max-connections"),
      ...count("max-connections-per-client"),
    };
    const alertsFile = args.options.alerts ?? ctx.env.PIER_ALERTS;
    const alerts = loadAlertSettings(alertsFile ? resolve(ctx.cwd, alertsFile) : undefined);
    const loose = existsSync(pierHome(ctx)) ? securePierHome(pierHome(ctx)) : undefined;
    const home = ensurePierHome(pierHome(ctx));
    if (loose) logger.warn(loose);
    const upPath = join(home, UP_FILE);
    if (existsSync(upPath)) {
      const info = JSON.parse(readFileSync(upPath, "utf8")) as UpInfo;
      // Alive, and pier: a pid the system gave to another program since is not a running pier.
      const running = info.pid !== process.pid && isPier(info.pid);
      if (running)
        throw userError(
          "AlreadyRunning",
          `pier up is already running for ${home} (pid ${info.pid}, ${info.url})`,
          "Use that one, or stop it with Ctrl-C first.",
        );
    }
    const progress = progressLine(ctx);
    const pier = createPier({ home, logger, alerts, http, allowedHosts: args.options["allowed-host"] ?? [] });
    const { engine, registry } = pier;
    const url = await pier.listen(port).catch(async (error) => {
      await pier.close();
      throw error;
    });
    ctx.err(`pier up: ${url} (home ${home})\n`);
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        ctx.err("\nStopping: no new requests; those in flight finish first (up to 30 s)…\n");
        await pier.close({
          graceMs: GRACE_MS,
          instanceGraceMs: 5000,
          drained: (running) => {
            if (running > 0) ctx.err(`${running} request(s) were in flight when the stop began\n`);
            ctx.err("Stopping instances (SIGTERM, then SIGKILL after 5 s)…\n");
          },
        });
      })();
      return stopping;
    };
    // One stray rejected promise must not take every endpoint down with it: it is pier's bug, logged
    // with its stack, and pier keeps serving.
    process.on("unhandledRejection", (reason) => {
      logger.error(
        `pier bug, not stopping: unhandled rejection: ${(reason as Error)?.message ?? String(reason)}`,
        {
          stack: (reason as Error)?.stack ?? "",
        },
      );
    });
    const stopped = new Promise<void>((resolve) => {
      const onSignal = () => void stop().then(resolve);
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    });
    try {
      const deployments = engine.store.deployments().length;
      if (deployments > 0)
        ctx.err(
          `Restoring ${engine.store.endpoints().length} endpoint(s) and ${deployments} deployment(s)…\n`,
        );
      await pier.restore(progress);
      if (args.options["no-default-model"] !== true && !engine.endpoints.route("fin-behavior")) {
        ctx.err("Creating the default workload (endpoint fin-behavior, deployment blue)…\n");
        await ensureDefaultWorkload(engine, registry, home, progress);
      }
      const tryIt = tryDefaultEndpoint(engine, registry);
      if (tryIt) {
        ctx.out(`\n✔ ${tryIt.endpoint}/${tryIt.deployment} is Ready, serving ${tryIt.model}`);
        ctx.out(`  Scoring URL: ${tryIt.scoringUri}`);
        ctx.out(`  Key:         ${tryIt.key}`);
        ctx.out("  Try it:");
        ctx.out(
          `  curl -s ${tryIt.scoringUri} -H ${shellQuote(`Authorization: Bearer ${tryIt.key}`)} -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify(tryIt.exampleBody))}`,
        );
      }
      for (const endpoint of engine.endpoints.list()) {
        ctx.out(`  ${endpoint.name}: ${endpoint.scoring_uri} traffic ${JSON.stringify(endpoint.traffic)}`);
      }
      ctx.out(
        `\nDashboard: ${pier.dashboard.loginLink()}  (one-time login link; pier dashboard makes another)`,
      );
      ctx.out(`\npier is up at ${url} (metrics: ${url}/metrics). Press Ctrl-C to stop.`);
    } catch (error) {
      await stop();
      throw error;
    }
    await stopped;
    return { stopped: true, url };
  },
  render(_result, ctx) {
    ctx.out("✔ pier stopped");
  },
});
