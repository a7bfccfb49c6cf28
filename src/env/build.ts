/**
 * Building a Python environment ahead of a deployment, never while an instance starts: a venv on a
 * chosen interpreter (system site packages visible, so what is already installed at the pinned
 * version is reused), with the pins installed by pip. Each environment is keyed by a hash of its
 * interpreter and pins, built once under <home>/envs/<hash>/ and reused by every instance of every
 * deployment that asks for the same pins; its build log stays beside it.
 *
 * Where the packages come from: PIER_PIP_FIND_LINKS (a folder of wheels, fully offline), else the
 * index in PIER_PIP_INDEX_URL / PIP_INDEX_URL (default PyPI); pip.conf files and other PIP_*
 * settings are not read. The index is checked before pip starts,
 * so a machine that cannot reach it fails in seconds with IndexUnreachable instead of hanging.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { devNull } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Code, PierError } from "../shared/index.js";
import type { Requirement } from "./requirements.js";

const DEFAULT_INDEX = "https://pypi.org/simple";
const INDEX_CHECK_TIMEOUT_MS = 3000;
const LOCK_WAIT_MS = 30 * 60_000;

export interface EnvironmentRecord {
  hash: string;
  state: "ready" | "failed";
  /** The interpreter the venv is built on, and its version. */
  basePython: string;
  pythonVersion: string;
  /** The venv's interpreter, which instances run. */
  python: string;
  /** pip requirement lines, sorted. */
  requirements: string[];
  /** Where packages came from: an index URL or a wheel folder. */
  source: string;
  builtAt: string;
  durationMs: number;
  error?: { code: Code; summary: string };
}

export interface EnvironmentRequest {
  home: string;
  basePython: string;
  pythonVersion: string;
  requirements: Requirement[];
  /** Each line of the build's output, for progress. */
  onLine?: (line: string) => void;
}

/** The pip line of a requirement, without where it was written. */
export function pipLine(requirement: Requirement): string {
  const marker = requirement.marker ? ` ; ${requirement.marker}` : "";
  const direct = requirement.direct;
  if (direct) return `${direct.editable ? "-e " : ""}${requirement.name} @ ${direct.location}${marker}`;
  return `${requirement.name}${requirement.specifier}${marker}`;
}

const linesOf = (requirements: Requirement[]) => [...new Set(requirements.map(pipLine))].sort();

/** The key of an environment: its base interpreter, that interpreter's version and the sorted pins. */
export function environmentHash(
  basePython: string,
  pythonVersion: string,
  requirements: Requirement[],
): string {
  return createHash("sha256")
    .update(JSON.stringify([basePython, pythonVersion, linesOf(requirements)]))
    .digest("hex")
    .slice(0, 16);
}

const environmentsDir = (home: string) => join(home, "envs");
const recordPath = (dir: string) => join(dir, "env.json");

function readRecord(dir: string): EnvironmentRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(dir), "utf8")) as EnvironmentRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(dir: string, record: EnvironmentRecord): void {
  const tmp = `${recordPath(dir)}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, recordPath(dir));
}

/** The built environment for exactly these pins, if one is ready. */
export function readyEnvironment(request: Omit<EnvironmentRequest, "onLine">): EnvironmentRecord | undefined {
  const hash = environmentHash(request.basePython, request.pythonVersion, request.requirements);
  const record = readRecord(join(environmentsDir(request.home), hash));
  return record?.state === "ready" && existsSync(record.python) ? record : undefined;
}

/** Every environment pier has built or tried to build, newest first. */
export function listEnvironments(home: string): EnvironmentRecord[] {
  const root = environmentsDir(home);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => readRecord(join(root, name)))
    .filter((r): r is EnvironmentRecord => r !== undefined)
    .sort((a, b) => b.builtAt.localeCompare(a.builtAt));
}

/** The folder of an environment by (a prefix of) its hash. */
export function environmentDir(home: string, hashPrefix: string): string {
  const root = environmentsDir(home);
  const matches = existsSync(root) ? readdirSync(root).filter((n) => n.startsWith(hashPrefix)) : [];
  if (hashPrefix.length < 4 || matches.length !== 1) {
    throw new PierError({
      code: "EnvironmentNotFound",
      summary:
        matches.length > 1
          ? `'${hashPrefix}' matches ${matches.length} environments`
          : `No environment '${hashPrefix}' in ${root}`,
      fix: "List them with `pier env list` and give at least 4 characters of the hash.",
    });
  }
  return join(root, matches[0]!);
}

interface PackageSource {
  args: string[];
  description: string;
  /** host:port to check before pip starts; none for a wheel folder. */
  check?: { host: string; port: number; url: string };
}

function packageSource(): PackageSource {
  const findLinks = process.env.PIER_PIP_FIND_LINKS;
  if (findLinks) {
    if (!existsSync(findLinks))
      throw new PierError({
        code: "BadArgument",
        summary: `PIER_PIP_FIND_LINKS names ${findLinks}, which does not exist`,
        fix: "Point PIER_PIP_FIND_LINKS at a folder of wheels (pip download -d DIR -r requirements.txt on a machine with an index).",
      });
    return { args: ["--no-index", "--find-links", findLinks], description: `wheels in ${findLinks}` };
  }
  const index = process.env.PIER_PIP_INDEX_URL ?? process.env.PIP_INDEX_URL ?? DEFAULT_INDEX;
  let url: URL;
  try {
    url = new URL(index);
  } catch {
    throw new PierError({
      code: "BadArgument",
      summary: `The package index '${index}' is not a URL`,
      fix: "Set PIER_PIP_INDEX_URL (or PIP_INDEX_URL) to an index such as https://pypi.org/simple.",
    });
  }
  if (url.protocol === "file:") {
    if (!existsSync(fileURLToPath(url)))
      throw new PierError({
        code: "IndexUnreachable",
        summary: `The package index ${index} is a folder that does not exist`,
        fix: "Point PIER_PIP_INDEX_URL at an existing simple-index folder, or use PIER_PIP_FIND_LINKS with a folder of wheels.",
      });
    return { args: ["--index-url", index], description: index };
  }
  // With a proxy, the proxy is what must be reachable.
  const proxy = url.protocol === "https:" ? (process.env.HTTPS_PROXY ?? process.env.https_proxy) : undefined;
  const target = proxy ? new URL(proxy) : url;
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  return {
    args: ["--index-url", index],
    description: index,
    check: { host: target.hostname, port, url: proxy ? `${index} (through ${proxy})` : index },
  };
}

/** Resolves when host:port accepts a TCP connection; throws IndexUnreachable within a few seconds otherwise. */
async function checkReachable(check: NonNullable<PackageSource["check"]>): Promise<void> {
  const started = performance.now();
  const fail = (reason: string): never => {
    throw new PierError({
      code: "IndexUnreachable",
      summary: `No package index is reachable from this machine: ${check.url} (${reason}, after ${(performance.now() - started).toFixed(0)} ms)`,
      details: [
        "pier checks the index before pip starts, so an offline machine fails here instead of hanging",
      ],
      fix: "Build offline from a folder of wheels (PIER_PIP_FIND_LINKS=DIR, made with `pip download -d DIR -r requirements.txt` elsewhere), point PIER_PIP_INDEX_URL at a reachable mirror, or set PIER_PYTHON to an interpreter that already has the packages.",
    });
  };
  let address: string;
  try {
    address = (await lookup(check.host)).address;
  } catch (error) {
    return fail(`cannot resolve ${check.host}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: address, port: check.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${check.host}:${check.port} within ${INDEX_CHECK_TIMEOUT_MS} ms`));
    }, INDEX_CHECK_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${check.host}:${check.port}: ${error.code ?? error.message}`));
    });
  }).catch((error: Error) => fail(error.message));
}

/** Checks that packages could be fetched now (a wheel folder, or an index that answers); returns where from. */
export async function checkPackageSource(): Promise<string> {
  const source = packageSource();
  if (source.check) await checkReachable(source.check);
  return source.description;
}

/** Runs one build command, its output appended to the log and passed on line by line. */
function runLogged(
  file: string,
  args: string[],
  log: string,
  onLine: (line: string) => void,
  timeoutMs: number,
): Promise<number> {
  appendFileSync(log, `$ ${file} ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // pip.conf files and PIP_* settings are ignored (a stray constraints file or mirror must not change
      // what the pins build); the package source is pier's own setting. Certificates still apply.
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(
            ([k]) => !k.startsWith("PIP_") || ["PIP_CERT", "PIP_CLIENT_CERT", "PIP_TRUSTED_HOST"].includes(k),
          ),
        ),
        PIP_CONFIG_FILE: devNull,
        PIP_DISABLE_PIP_VERSION_CHECK: "1",
        PYTHONUNBUFFERED: "1",
      },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let partial = "";
    const take = (chunk: Buffer) => {
      appendFileSync(log, chunk);
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (partial.trim()) onLine(partial);
      appendFileSync(log, `[exit ${signal ?? code}]\n`);
      resolve(code ?? 128);
    });
  });
}

/**
 * Who holds a build lock, and whether it is stale: its builder has died, or it has had no pid for
 * seconds (a builder that died between making the folder and writing its pid).
 */
function lockOwner(lock: string): { pid: number; stale: boolean } {
  let pid = 0;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8")) || 0;
  } catch {}
  if (pid === 0) {
    try {
      return { pid, stale: Date.now() - statSync(lock).mtimeMs > 5000 };
    } catch {
      return { pid, stale: false }; // the lock was just released: try again
    }
  }
  try {
    process.kill(pid, 0);
    return { pid, stale: false };
  } catch (error) {
    return { pid, stale: (error as NodeJS.ErrnoException).code === "ESRCH" };
  }
}

/** Takes the build lock of one environment (a folder, created atomically); waits while another build holds it. */
async function withLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = lockOwner(lock);
      if (owner.stale) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new PierError({
          code: "EnvironmentBusy",
          summary: `Another build of ${dir} (pid ${owner.pid}) has held its lock for ${LOCK_WAIT_MS / 60_000} minutes`,
          fix: `Wait for it, or stop process ${owner.pid}.`,
        });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The pin pip could not meet and the versions its package source has, from pip's own words
 * ("Could not find a version that satisfies the requirement X==9.9 (from versions: 1.0, 1.1)").
 */
function unavailablePin(lines: readonly string[]): { package: string; available: string[] } | undefined {
  for (const line of lines) {
    const match = /requirement ([A-Za-z0-9._-]+)\S* \(from versions: ([^)]*)\)/.exec(line);
    if (match)
      return {
        package: match[1]!,
        available: match[2]!
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v && v !== "none"),
      };
  }
  return undefined;
}

/**
 * Returns the ready environment for these pins, building it first if needed. Throws IndexUnreachable
 * (no package source), EnvironmentBuilderMissing (no venv/pip in the base interpreter) or
 * EnvironmentBuildFailed (pip failed: the pins cannot be resolved or installed), each with the log.
 */
export async function buildEnvironment(request: EnvironmentRequest): Promise<EnvironmentRecord> {
  const hash = environmentHash(request.basePython, request.pythonVersion, request.requirements);
  const dir = join(environmentsDir(request.home), hash);
  mkdirSync(environmentsDir(request.home), { recursive: true });
  return withLock(dir, async () => {
    const existing = readyEnvironment(request);
    if (existing) return existing;
    const onLine = request.onLine ?? (() => {});
    const started = performance.now();
    const lines = linesOf(request.requirements);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const log = join(dir, "build.log");
    writeFileSync(join(dir, "requirements.txt"), `${lines.join("\n")}\n`);
    writeFileSync(
      log,
      `${new Date().toISOString()} building environment ${hash} on ${request.basePython} (Python ${request.pythonVersion})\n`,
    );
    const venvPython = join(dir, "venv", "bin", "python");
    const record: EnvironmentRecord = {
      hash,
      state: "failed",
      basePython: request.basePython,
      pythonVersion: request.pythonVersion,
      python: venvPython,
      requirements: lines,
      source: "",
      builtAt: new Date().toISOString(),
      durationMs: 0,
    };
    const tail = () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .slice(-15);
    try {
      const source = packageSource();
      record.source = source.description;
      appendFileSync(log, `packages from ${source.description}\n`);
      if (source.check) await checkReachable(source.check);
      const timeoutMs = Number(process.env.PIER_ENV_BUILD_TIMEOUT_S ?? 1200) * 1000;
      const venv = await runLogged(
        request.basePython,
        ["-m", "venv", "--without-pip", "--system-site-packages", join(dir, "venv")],
        log,
        onLine,
        60_000,
      );
      const builderMissing = (what: string) =>
        new PierError({
          code: "EnvironmentBuilderMissing",
          summary: `${request.basePython} cannot make a virtual environment with pip (${what})`,
          details: tail(),
          fix: "Install them for that interpreter (apt-get install python3-venv python3-pip), or set PIER_PYTHON to one that has them.",
        });
      if (venv !== 0) throw builderMissing("venv failed");
      const install = await runLogged(
        venvPython,
        [
          "-m",
          "pip",
          "install",
          "--no-input",
          "--progress-bar",
          "off",
          "--prefer-binary",
          "--retries",
          "1",
          "--timeout",
          "15",
          ...source.args,
          "-r",
          join(dir, "requirements.txt"),
        ],
        log,
        onLine,
        timeoutMs,
      );
      // The venv sees the base interpreter's pip through its system site packages, or has none.
      if (install !== 0 && tail().some((l) => /No module named pip/.test(l))) throw builderMissing("no pip");
      if (install !== 0) {
        const errors = tail().filter((l) => /error|conflict|could not|no matching|requires/i.test(l));
        const unavailable = unavailablePin(tail());
        throw new PierError({
          code: "EnvironmentBuildFailed",
          summary: `pip could not install the pinned packages into environment ${hash}${errors[0] ? `: ${errors[0].replace(/^ERROR:\s*/, "")}` : ""}`,
          details: tail(),
          fix: "Fix the pins pip names above (a version that exists for this Python, no conflicting pins), then deploy again; `pier model validate` checks pins against each package's Python support.",
          ...(unavailable ? { data: { unavailable } } : {}),
        });
      }
      record.state = "ready";
      appendFileSync(log, `${new Date().toISOString()} ready\n`);
      return record;
    } catch (error) {
      const e =
        error instanceof PierError
          ? error
          : new PierError({
              code: "EnvironmentBuildFailed",
              summary: `Building environment ${hash} failed: ${(error as Error).message}`,
              details: tail(),
              fix: "Read the build log for the cause.",
            });
      appendFileSync(log, `${new Date().toISOString()} FAILED ${e.code}: ${e.summary}\n`);
      record.error = { code: e.code, summary: e.summary };
      throw new PierError({
        code: e.code,
        summary: e.summary,
        details: [...e.details, `build log: ${log}`],
        ...(e.fix ? { fix: e.fix } : {}),
        ...(e.data ? { data: e.data } : {}),
      });
    } finally {
      record.durationMs = performance.now() - started;
      writeRecord(dir, record);
    }
  });
}
