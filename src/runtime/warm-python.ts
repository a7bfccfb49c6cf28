/**
 * Warm Python interpreters: one per Python executable that a deployment runs on, started the first
 * time one does, holding numpy, pandas, scikit-learn, joblib and pier's host imported
 * (python/pier_warm.py). An instance of that executable then starts as a small shim
 * (python/pier_shim.py) that hands its descriptors to the interpreter, which forks the instance: no
 * imports from scratch, and the imported libraries' pages shared between instances.
 *
 * Supervision does not change: pier's child is the shim, which ends as the instance ends (its code or
 * its signal) and passes SIGTERM on; a killed shim's instance is killed by the interpreter; the host
 * tells the instance's own pid first (`forked`), and memory, CPU and freezes are read from that pid.
 *
 * An instance starts cold (python pier_host.py, as before) while its interpreter is not yet ready,
 * after the interpreter ended (it is started again after RETRY_MS), when PIER_WARM=0, and when the
 * deployment sets variables that act at import time (PYTHON*, thread counts of the numeric libraries,
 * LD_*, MALLOC_*): forked, they would come too late.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { residentBytes } from "../shared/index.js";
import type { InstanceCommand } from "./host-selection.js";

const WARM_HOST = fileURLToPath(new URL("../../../python/pier_warm.py", import.meta.url));
const SHIM = fileURLToPath(new URL("../../../python/pier_shim.py", import.meta.url));
/** How long after an interpreter ended before pier starts another for the same executable. */
const RETRY_MS = 30_000;
/** Unix socket paths hold at most 108 bytes (sun_path). */
const MAX_SOCKET_PATH = 100;

/** Variables read at interpreter start or at a numeric library's import: set after a fork, they would not act. */
const IMPORT_TIME = /^(PYTHON|OMP_|MKL_|OPENBLAS_|NUMEXPR_|KMP_|GOTO_|LD_|MALLOC_)/;
/** Those pier sets itself for every Python instance, the same in the interpreter. */
const PIERS_OWN = new Set(["PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"]);

/** Whether an instance with this environment may start from a warm interpreter. */
export function forkable(env: Record<string, string>): boolean {
  if (env.PIER_WARM === "0") return false;
  return Object.keys(env).every((k) => PIERS_OWN.has(k) || !IMPORT_TIME.test(k));
}

interface Interpreter {
  state: "starting" | "ready" | "ended";
  socket: string;
  child: ChildProcess;
  endedAt: number;
  /** Its resident memory once ready: what every forked instance's RSS starts from. */
  rssBytes: number;
}

/**
 * How many times the interpreter's resident memory a deployment's memory limit must be for its
 * instances to fork. A forked instance's RSS counts every page of what the interpreter imported, used
 * by the model or not, and pier's OOM verdict reads RSS as a container's limit would: a limit close
 * to that starts cold, so that a model never fails warm where it would pass cold.
 */
const LIMIT_OVER_INTERPRETER = 2;

export class WarmPythons {
  readonly #interpreters = new Map<string, Interpreter>();
  #closed = false;

  constructor(private readonly home: string) {}

  /**
   * The command that starts this Python instance: through the shim when the executable's warm
   * interpreter is ready, else `cold` itself (and the interpreter starts warming for the next one).
   */
  command(cold: InstanceCommand, python: string, memoryLimitBytes: number): InstanceCommand {
    if (this.#closed || !forkable(cold.env)) return cold;
    const warm = this.#interpreter(python);
    if (warm?.state !== "ready" || memoryLimitBytes < LIMIT_OVER_INTERPRETER * warm.rssBytes) return cold;
    return { file: python, args: ["-I", "-S", SHIM, warm.socket, cold.args[0]!], env: cold.env };
  }

  /** Starts the executable's interpreter now if it has none (so that the next instance is warm). */
  prepare(python: string): void {
    if (!this.#closed) this.#interpreter(python);
  }

  #interpreter(python: string): Interpreter | undefined {
    const known = this.#interpreters.get(python);
    if (known && (known.state !== "ended" || Date.now() - known.endedAt < RETRY_MS)) return known;
    const dir = join(this.home, "run");
    const name = `warm-${createHash("sha256").update(python).digest("hex").slice(0, 12)}`;
    const socket = join(dir, `${name}.sock`);
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) return undefined;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const child = spawn(python, [WARM_HOST, socket], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    });
    const interpreter: Interpreter = { state: "starting", socket, child, endedAt: 0, rssBytes: 0 };
    this.#interpreters.set(python, interpreter);
    const log = createWriteStream(join(dir, `${name}.log`), { flags: "a" });
    child.stderr!.pipe(log);
    child.stdout!.once("data", (chunk: Buffer) => {
      if (chunk.toString().startsWith("ready") && interpreter.state === "starting") {
        interpreter.rssBytes = residentBytes(child.pid ?? 0);
        interpreter.state = "ready";
      }
      log.write(chunk);
      child.stdout!.pipe(log);
    });
    const end = () => {
      interpreter.state = "ended";
      interpreter.endedAt = Date.now();
    };
    child.on("error", end);
    child.on("exit", end);
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void }).unref?.();
    return interpreter;
  }

  /** Ends every interpreter (after pier has stopped the instances they forked). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#interpreters.values()].map(async ({ child, state }) => {
        if (state === "ended") return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.stdin!.end();
        const forced = setTimeout(() => child.kill("SIGKILL"), 1000);
        await exited;
        clearTimeout(forced);
      }),
    );
    this.#interpreters.clear();
  }
}
