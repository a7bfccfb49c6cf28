/** Test helpers: temp folders that clean up after themselves, and the CLI run in-process or as a real process. */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDefaultWorkload } from "../src/api/index.js";
import { createPier, type Pier } from "../src/app/index.js";
import { runCli } from "../src/cli/main.js";
import type { AlertSettings } from "../src/monitor/index.js";
import type { Logger } from "../src/shared/index.js";

/** The repository root (tests run from dist/test). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PIER_BIN = join(REPO_ROOT, "bin/pier.js");
/** Real model packages from public repositories, kept in the repository (test/fixtures/README.md says where each came from). */
export const FIXTURES = join(REPO_ROOT, "test/fixtures");

/** What a test never reaches: a package index (an environment build fails at once unless a test gives wheels). */
const OFFLINE = { PIER_PIP_INDEX_URL: "http://127.0.0.1:1/simple" };

/** What cleans up after a test: a TestContext, or the chaos runner's own list. */
export interface Cleanups {
  after(fn: () => unknown): void;
}

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: Cleanups, prefix = "pier-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, capturing what it prints; `env` adds to this process's environment. */
export async function cli(
  args: string[],
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    out: (text) => {
      stdout += `${text}\n`;
    },
    err: (text) => {
      stderr += text;
    },
    interactive: false,
    cwd,
    env: { ...process.env, ...env },
  });
  return { code, stdout, stderr };
}

/** Runs the real `pier` executable as a child process. */
export function pierProcess(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [PIER_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** A running pier, as tests reach it: where it listens, its home, and the CLI against that home. */
export interface RunningPier {
  url: string;
  home: string;
  run(args: string[], cwd?: string): Promise<CliResult>;
}

export interface PierUp extends RunningPier {
  pid: number;
  /** Runs the CLI against this pier up's home (as a process with `cliProcesses`). */
  run(args: string[], cwd?: string): Promise<CliResult>;
  /** Ctrl-C, then waits for the exit code. */
  stop(): Promise<number>;
  /** Resolves to the exit code (128 for a signal) when the process ends, however it ends. */
  exited: Promise<number>;
  output(): string;
}

/** Starts a real `pier up` (its own home, an OS-chosen port) and stops it when the test ends. */
export async function startPier(
  t: Cleanups,
  options: {
    home?: string;
    port?: number;
    defaultModel?: boolean;
    env?: NodeJS.ProcessEnv;
    args?: string[];
    /** Run the CLI as real processes too (the README's story); in this process otherwise. */
    cliProcesses?: boolean;
  } = {},
): Promise<PierUp> {
  const home = options.home ?? tempDir(t, "pier-up-");
  const args = [
    PIER_BIN,
    "up",
    "--port",
    String(options.port ?? 0),
    ...(options.defaultModel ? [] : ["--no-default-model"]),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...OFFLINE, PIER_HOME: home, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number>((resolvePromise) =>
    child.on("exit", (code, signal) => resolvePromise(code ?? (signal ? 128 : -1))),
  );
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`pier up did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = /pier is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]!);
      }
    };
    child.stdout.on("data", check);
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error(`pier up exited:\n${output}`));
    });
  });
  let stopped: Promise<number> | undefined;
  const stop = () => {
    if (!stopped) {
      child.kill("SIGINT");
      stopped = exited;
    }
    return stopped;
  };
  t.after(() => stop());
  return {
    url,
    pid: child.pid!,
    home,
    run: (cliArgs, cwd) =>
      options.cliProcesses
        ? pierProcess(cliArgs, { env: { PIER_HOME: home }, ...(cwd ? { cwd } : {}) })
        : cli(cliArgs, cwd, { PIER_HOME: home }),
    stop,
    exited,
    output: () => output,
  };
}

/** POSTs JSON (or text) and returns status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies of many shapes
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

/**
 * A work folder with synthetic banking data (b.csv) and a trained model package (model/), made
 * through the real CLI; removed when the process's tests end.
 */
export async function trainedWorkspace(
  prefix: string,
  rows = 600,
): Promise<{ dir: string; csv: string; model: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const csv = join(dir, "b.csv");
  const model = join(dir, "model");
  const synth = await cli(["data", "synth", "--rows", String(rows), "--out", csv]);
  if (synth.code !== 0) throw new Error(synth.stderr);
  const train = await cli(["train", "--data", csv, "--out", model, "--search", "0"]);
  if (train.code !== 0) throw new Error(train.stderr);
  return { dir, csv, model, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Polls `check` until it returns something other than undefined/false, and returns that; fails the
 * test with `what` after `timeoutMs`. The way tests wait for a condition instead of sleeping.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The pier_requests_in_flight gauge of one deployment, read from /metrics. */
export async function requestsInFlight(
  pier: { url: string },
  endpoint: string,
  deployment: string,
): Promise<number> {
  const text = await (await fetch(`${pier.url}/metrics`)).text();
  const line = new RegExp(
    `pier_requests_in_flight\\{endpoint="${endpoint}",deployment="${deployment}"\\} (\\d+)`,
  );
  return Number(line.exec(text)?.[1] ?? 0);
}

/** pier built in this test's process, as the server tier uses it. */
export interface PierServer extends RunningPier {
  /** The composition root itself: its engine, rollouts, monitoring, dashboard, and handle()/fetch(). */
  pier: Pier;
  /** Stops the server and every instance (the home stays unless the helper made it). */
  stop(): Promise<void>;
}

/**
 * pier built with createPier in this process: real SQLite, real instance processes, real HTTP on
 * 127.0.0.1 for the CLI (run in-process, no `pier up` and no CLI process). `env` is set in this
 * process's environment until stop() (pier's library reads PIER_PYTHON, PIER_PIP_FIND_LINKS…);
 * `defaultModel` creates the default workload as `pier up` does. Stopped when the test ends when `t`
 * is given; otherwise call stop().
 */
export async function servePier(
  t?: Cleanups,
  options: {
    home?: string;
    env?: NodeJS.ProcessEnv;
    alerts?: AlertSettings;
    defaultModel?: boolean;
    logger?: Logger;
  } = {},
): Promise<PierServer> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "pier-server-"));
  const env = { ...OFFLINE, ...options.env };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const pier = createPier({
    home,
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const url = await pier.listen(0);
  await pier.restore();
  if (options.defaultModel) await ensureDefaultWorkload(pier.engine, pier.registry, home, () => {});
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await pier.close({ instanceGraceMs: 1000 });
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      if (!options.home) rmSync(home, { recursive: true, force: true });
    })();
    return stopped;
  };
  t?.after(stop);
  return { url, home, pier, run: (args, cwd) => cli(args, cwd, { PIER_HOME: home, ...env }), stop };
}

/** Resolves true once process `pid` no longer exists, false if it still does after `ms`. */
export async function processGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes a minimal pure-Python wheel (a real one: pip installs it) into `dir`. */
export function writeWheel(dir: string, name: string, version: string, source: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync(process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3", [
    join(REPO_ROOT, "test/tools/make_wheel.py"),
    dir,
    name,
    version,
    source,
  ]);
}
