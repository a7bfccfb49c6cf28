/** Test helpers: temp folders that clean up after themselves, and the CLI run in-process or as a real process. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../src/cli/main.js";

/** The repository root (tests run from dist/test). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PIER_BIN = join(REPO_ROOT, "bin/pier.js");
/** The shared fixtures beside the repository (CI lays shared/ next to the clone); PIER_FIXTURES overrides. */
export const FIXTURES = resolve(process.env.PIER_FIXTURES ?? join(REPO_ROOT, "../shared/fixtures"));

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: TestContext, prefix = "pier-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, capturing what it prints. */
export async function cli(args: string[], cwd = process.cwd()): Promise<CliResult> {
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
