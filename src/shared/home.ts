/** The pier home folder: everything durable lives under it (default ./.pier, PIER_HOME to override). */
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

export function resolvePierHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.PIER_HOME && env.PIER_HOME !== "" ? env.PIER_HOME : ".pier");
}

/** Creates the home folder (owner-only) if needed and returns its path. */
export function ensurePierHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  securePierHome(home);
  return home;
}

/**
 * Makes the home folder owner-only (it holds keys and the database) when it was made looser before
 * pier, e.g. by a `mkdir` with the usual 0755; says what it changed, or undefined.
 */
export function securePierHome(home: string): string | undefined {
  const stat = statSync(home);
  if ((stat.mode & 0o077) === 0 || stat.uid !== process.getuid?.()) return undefined;
  chmodSync(home, 0o700);
  return `${home} was readable by others (mode ${(stat.mode & 0o777).toString(8)}); pier made it 0700, as it holds keys and the database`;
}
