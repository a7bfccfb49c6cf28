/** The pier home folder: everything durable lives under it (default ./.pier, PIER_HOME to override). */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

export function resolvePierHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.PIER_HOME && env.PIER_HOME !== "" ? env.PIER_HOME : ".pier");
}

/** Creates the home folder (owner-only) if needed and returns its path. */
export function ensurePierHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}
