/**
 * One instance of a deployment: an OS process supervised as a state machine (TRANSITIONS below).
 *
 *   Pending → Initializing (storage-initializer: copy + sha256) → Starting (process, model load)
 *     → Ready ⇄ Unready (readiness probe) → Restarting (crash, liveness, OOM) → … → CrashLoop
 *     → Stopping → Stopped          (Failed: the first start did not reach Ready)
 *
 * Startup is diagnosed from evidence: an explicit READY message on fd 3 is raced against the
 * process's exit and a deadline derived from the probe settings; the log is kept either way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, createWriteStream, mkdirSync, rmSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import type { ProbeSettings } from "../config/index.js";
import {
  type HostLoadError,
  HttpInvokeClient,
  INSTANCE_TOKEN_HEADER,
  INVOKE_CHANNEL_FD,
  type InstanceClient,
  type InstanceCommand,
  InvokeChannelClient,
  type LaidOutFile,
  parseHostMessage,
  type ScriptSwagger,
} from "../runtime/index.js";
import { isCode, PierError, RecentSamples } from "../shared/index.js";
import type { EngineEvent, ProbeKind } from "./events.js";
import { INFERENCE_SERVER_LOG, STORAGE_INITIALIZER_LOG } from "./evidence.js";
import { processState, treeCpuTicks, treeResidentBytes } from "./proc.js";

export type InstanceState =
  | "Pending"
  | "Initializing"
  | "Starting"
  | "Ready"
  | "Unready"
  | "Restarting"
  | "CrashLoop"
  | "Failed"
  | "Stopping"
  | "Stopped";

/** One process start: its child, when it began, and how its startup ends (READY, exit or the deadline). */
interface Launch {
  child: ChildProcess;
  spawnedAt: number;
  settled: boolean;
  settle(error?: PierError): void;
  loadFailure?: HostLoadError;
  memoryTimer: NodeJS.Timeout;
}

/** Where an instance's state may go next: anything else is a bug in pier, not a state to be in. */
const TRANSITIONS: Record<InstanceState, readonly InstanceState[]> = {
  Pending: ["Initializing", "Stopping", "Stopped"],
  Initializing: ["Starting", "Failed", "Stopping", "Stopped"],
  Starting: ["Ready", "Failed", "Stopping", "Stopped"],
  Ready: ["Unready", "Restarting", "CrashLoop", "Stopping", "Stopped"],
  Unready: ["Ready", "Restarting", "CrashLoop", "Stopping", "Stopped"],
  Restarting: ["Starting", "Stopping", "Stopped"],
  CrashLoop: ["Starting", "Stopping", "Stopped"],
  // A start that failed is final for a new deployment; an instance that had run restarts.
  Failed: ["Restarting", "CrashLoop", "Stopping", "Stopped"],
  Stopping: ["Stopped"],
  Stopped: [],
};

/** What an instance reports: an event of its own, with a line for people. */
export interface InstanceEvent {
  instance: string;
  event: EngineEvent;
  message: string;
}

export interface InstanceConfig {
  id: string;
  dir: string;
  /** What the storage initializer lays out: folders (relative to the instance dir) and their files. */
  layout: readonly { path: string; artifacts: readonly LaidOutFile[] }[];
  /** Writes files from the artifact store into a folder, each hash checked (off the request thread in pier up). */
  materialize: (files: readonly LaidOutFile[], dir: string) => Promise<void>;
  /** Builds the runtime command once the files are in place; gets the instance dir. */
  command: (instanceDir: string) => InstanceCommand;
  liveness: ProbeSettings;
  readiness: ProbeSettings;
  memoryLimitBytes: number;
  maxConcurrent: number;
  onEvent: (event: InstanceEvent) => void;
}

const MEMORY_POLL_MS = 100;
const STOP_GRACE_MS = 5000;
/** How long a process past its startup deadline may go on loading so that its load time is measured. */
const LATE_LOAD_WATCH_MAX_MS = 120_000;
const CRASH_WINDOW_MS = 60_000;
const CRASH_LOOP_AFTER = 3;
/** How long a silent instance's CPU use is sampled, and how much use (clock ticks) means busy, not stuck. */
const STALL_SAMPLE_MS = 100;
const STALL_BUSY_TICKS = 1;

export class Instance {
  readonly id: string;
  state: InstanceState = "Pending";
  port = 0;
  pid = 0;
  restarts = 0;
  peakRssBytes = 0;
  loadMs = 0;
  inFlight = 0;
  /** How long requests that timed out really took (answers that came after request_timeout_ms). */
  readonly lateAnswersMs = new RecentSamples(200);
  /** The way to send requests, while the process is up. */
  client: InstanceClient | undefined;
  /** A scoring script's schemas and swagger files, from its READY message. */
  swagger: ScriptSwagger | undefined;
  /** Why the last process ended: "exit code 1", "signal SIGKILL", "OOMKilled". */
  lastExit: string | undefined;

  readonly #config: InstanceConfig;
  /** The current process's secret for its HTTP port. */
  #token = "";
  /** When the gateway took it out of rotation for not answering; undefined while it answers. */
  #ejectedAt: number | undefined;
  /** A CPU sample under way, to tell a stuck instance from a busy one. */
  #stallCheck: NodeJS.Timeout | undefined;
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #recentLines: string[] = [];
  #timers: NodeJS.Timeout[] = [];
  #crashTimes: number[] = [];
  #oomKilled = false;
  #stopping = false;
  /** Set while a process that missed its startup deadline goes on loading, to measure the load. */
  #lateLoad: NodeJS.Timeout | undefined;

  constructor(config: InstanceConfig) {
    this.id = config.id;
    this.#config = config;
    mkdirSync(config.dir, { recursive: true });
  }

  /** Last lines the process printed (stdout and stderr), for evidence. */
  get recentLog(): string[] {
    return [...this.#recentLines];
  }

  /** Whether the process missed its startup deadline and is still loading (to be measured, never routed). */
  get measuringLateLoad(): boolean {
    return this.#lateLoad !== undefined;
  }

  get routable(): boolean {
    return this.state === "Ready" && this.client !== undefined && this.#ejectedAt === undefined;
  }

  /** How long it has been out of rotation for not answering; undefined while it answers. */
  get silentForMs(): number | undefined {
    return this.#ejectedAt === undefined ? undefined : performance.now() - this.#ejectedAt;
  }

  /**
   * The gateway's word that this instance has answered nothing for `silentMs` while others answer.
   * If its processes used no CPU over a short sample, it is stuck (stopped, deadlocked, waiting on
   * something that never comes), not busy: it is taken out of rotation, and its waiting requests go
   * to the others at once. It comes back with its next answer; if it never answers, the liveness
   * probe restarts it. A busy one stays: its requests time out as slow ones do.
   */
  suspectStall(silentMs: number): void {
    if (this.#ejectedAt !== undefined || this.#stallCheck || !this.routable) return;
    const pid = this.pid;
    const before = treeCpuTicks(pid);
    this.#stallCheck = setTimeout(() => {
      this.#stallCheck = undefined;
      const client = this.client;
      if (!client || !this.routable || pid !== this.pid) return;
      const busyTicks = treeCpuTicks(pid) - before;
      if (busyTicks > STALL_BUSY_TICKS || performance.now() - client.lastAnswerAt < silentMs) return;
      this.#ejectedAt = performance.now();
      const process = processState(pid);
      const silent = performance.now() - client.lastAnswerAt;
      this.#event(
        { kind: "Ejected", data: { silentMs: silent, process } },
        `stopped answering: nothing for ${silent.toFixed(0)} ms while other instances answered, and no CPU used (process ${process}); out of rotation until it answers again`,
      );
      client.abandon();
    }, STALL_SAMPLE_MS);
  }

  #recover(): void {
    if (this.#ejectedAt === undefined) return;
    const ejectedMs = performance.now() - this.#ejectedAt;
    this.#ejectedAt = undefined;
    this.#event(
      { kind: "Recovered", data: { ejectedMs } },
      `answering again after ${ejectedMs.toFixed(0)} ms out of rotation`,
    );
  }

  #event(event: EngineEvent, message: string): void {
    this.#config.onEvent({ instance: this.id, event, message });
  }

  /** Moves to `next` if the lifecycle allows it from here; anything else is a bug in pier. */
  #enter(next: InstanceState): void {
    if (next === this.state) return;
    if (!TRANSITIONS[this.state].includes(next))
      throw new PierError({
        code: "InternalError",
        summary: `Instance ${this.id} cannot go from ${this.state} to ${next}`,
        fix: "This is a bug in pier; the instance's log and `pier deployment show` tell what it was doing.",
      });
    this.state = next;
  }

  /** The storage-initializer container: copy the version's files and verify each sha256. */
  async #initializeStorage(): Promise<void> {
    this.#enter("Initializing");
    const logPath = join(this.#config.dir, STORAGE_INITIALIZER_LOG);
    const line = (text: string) => appendFileSync(logPath, `${new Date().toISOString()} ${text}\n`);
    const started = performance.now();
    let files = 0;
    for (const folder of this.#config.layout) {
      const target = join(this.#config.dir, folder.path);
      rmSync(target, { recursive: true, force: true });
      line(`copying ${folder.artifacts.length} files into ${target}`);
      try {
        await this.#config.materialize(folder.artifacts, target);
      } catch (error) {
        line(`FAILED: ${(error as Error).message}`);
        throw error;
      }
      for (const a of folder.artifacts)
        line(`verified ${folder.path}/${a.path} sha256:${a.sha256} (${a.size} bytes)`);
      files += folder.artifacts.length;
    }
    const ms = performance.now() - started;
    line(`done in ${ms.toFixed(1)} ms`);
    this.#event(
      { kind: "StorageInitialized", data: { files, ms } },
      `copied and verified ${files} files in ${ms.toFixed(0)} ms`,
    );
  }

  /** Startup deadline: what the readiness probe would tolerate before declaring the container failed. */
  get startupDeadlineMs(): number {
    const r = this.#config.readiness;
    return (r.initial_delay + r.failure_threshold * r.period) * 1000;
  }

  /** Initializes storage and starts the process; resolves when Ready, rejects with the startup failure. */
  async start(): Promise<void> {
    await this.#initializeStorage();
    await this.#launch();
  }

  /** Starts the process and resolves when it says READY; rejects when it exits first or misses its deadline. */
  #launch(): Promise<void> {
    this.#enter("Starting");
    this.#oomKilled = false;
    const child = this.#spawn();
    return new Promise<void>((resolve, reject) => {
      const launch: Launch = {
        child,
        spawnedAt: performance.now(),
        settled: false,
        settle: (error) => {
          if (launch.settled) return;
          launch.settled = true;
          clearTimeout(deadline);
          if (error) reject(error);
          else resolve();
        },
        memoryTimer: setInterval(() => this.#checkMemory(child), MEMORY_POLL_MS),
      };
      launch.memoryTimer.unref();
      const deadline = setTimeout(() => this.#missedDeadline(launch), this.startupDeadlineMs);
      createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on("line", (text) =>
        this.#onHostMessage(launch, text),
      );
      child.on("exit", (code, signal) => this.#onExit(launch, code, signal));
    });
  }

  /** Spawns the host with its log and the invoke channel wired up. */
  #spawn(): ChildProcess {
    const command = this.#config.command(this.#config.dir);
    this.#log ??= createWriteStream(join(this.#config.dir, INFERENCE_SERVER_LOG), { flags: "a" });
    // Only pier may call the instance's HTTP port (probes, /invoke): a secret per process, in its environment.
    this.#token = randomBytes(24).toString("hex");
    const child = spawn(command.file, command.args, {
      env: { ...command.env, PIER_INSTANCE_TOKEN: this.#token },
      cwd: this.#config.dir,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    this.#child = child;
    this.pid = child.pid ?? 0;
    const commandLine = `${command.file} ${command.args.join(" ")}`;
    this.#event(
      { kind: "ProcessStarted", data: { pid: this.pid, command: commandLine } },
      `started pid ${this.pid}: ${commandLine}`,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on("line", (text) => {
        this.#log?.write(`${text}\n`);
        this.#recentLines.push(text);
        if (this.#recentLines.length > 200) this.#recentLines.shift();
      });
    }
    return child;
  }

  /**
   * The deployment fails now, as Azure's would; the process, which gets no traffic, may go on loading
   * for a while so that pier can tell how long the load really takes (LateReady).
   */
  #missedDeadline(launch: Launch): void {
    const watchMs = Math.min(LATE_LOAD_WATCH_MAX_MS, Math.max(30_000, 4 * this.startupDeadlineMs));
    this.#event(
      { kind: "StartupTimeout", data: { deadlineMs: this.startupDeadlineMs, watchMs } },
      `no READY within ${this.startupDeadlineMs / 1000} s; the process gets no traffic and may go on loading for up to ${watchMs / 1000} s more so that its load time can be measured`,
    );
    this.#stopping = true;
    this.#enter("Failed");
    this.#lateLoad = setTimeout(() => launch.child.kill("SIGKILL"), watchMs);
    launch.settle(
      new PierError({
        code: "ResourceNotReady",
        summary: `Instance ${this.id} did not report READY within ${this.startupDeadlineMs / 1000} s (readiness_probe initial_delay + failure_threshold × period)`,
        details: this.recentLog.slice(-20),
        fix: "Raise readiness_probe.initial_delay or failure_threshold if the model needs longer to load, or make the load faster.",
      }),
    );
  }

  /** A line on fd 3: READY (on time, or late and only measured) or the load failure. */
  #onHostMessage(launch: Launch, text: string): void {
    const message = parseHostMessage(text);
    if (!message) return;
    if (message.type === "forked") {
      // The shim stays pier's child; memory, CPU and state are read from the instance's own process.
      if (launch.child === this.#child) this.pid = message.pid;
      this.#log?.write(`pier: forked from the warm interpreter as pid ${message.pid}\n`);
      return;
    }
    if (message.type === "load-failed") {
      launch.loadFailure = message.error;
      this.#event(
        { kind: "LoadFailed", data: { error: message.error } },
        `${message.error.type}: ${message.error.message}`,
      );
      return;
    }
    const startMs = performance.now() - launch.spawnedAt;
    if (launch.settled) {
      this.#event(
        { kind: "LateReady", data: { startMs, loadMs: message.loadMs, deadlineMs: this.startupDeadlineMs } },
        `READY ${(startMs / 1000).toFixed(1)} s after start, past the ${this.startupDeadlineMs / 1000} s the probes allow (model load ${(message.loadMs / 1000).toFixed(1)} s); stopped`,
      );
      launch.child.kill("SIGKILL");
      return;
    }
    // A process being stopped, or already past its limit, is not Ready, however fast it said so.
    if (this.#stopping || this.#checkMemory(launch.child)) return;
    this.port = message.port;
    this.loadMs = message.loadMs;
    this.swagger = message.swagger;
    this.#ejectedAt = undefined;
    const listener = { onLate: (ms: number) => this.lateAnswersMs.push(ms), onAnswer: () => this.#recover() };
    this.client = message.channel
      ? new InvokeChannelClient(launch.child.stdio[INVOKE_CHANNEL_FD] as Duplex, listener)
      : new HttpInvokeClient(message.port, this.#config.maxConcurrent, this.#token, listener);
    this.#enter("Ready");
    this.#event(
      { kind: "Ready", data: { port: message.port, loadMs: message.loadMs, startMs } },
      `ready on port ${message.port}; model loaded in ${message.loadMs.toFixed(0)} ms, ${startMs.toFixed(0)} ms after start`,
    );
    this.#scheduleProbes();
    launch.settle();
  }

  /** The process ended: a failed start, a stop, or a crash to restart from. */
  #onExit(launch: Launch, code: number | null, signal: NodeJS.Signals | null): void {
    clearInterval(launch.memoryTimer);
    clearTimeout(this.#lateLoad);
    this.#lateLoad = undefined;
    const reason = this.#oomKilled ? "OOMKilled" : signal ? `signal ${signal}` : `exit code ${code}`;
    this.lastExit = reason;
    this.client?.close();
    this.client = undefined;
    this.#clearProbes();
    this.#event(
      {
        kind: "ProcessExited",
        data: { pid: this.pid, code, signal, oomKilled: this.#oomKilled, peakRssBytes: this.peakRssBytes },
      },
      `pid ${this.pid} ended: ${reason}`,
    );
    if (!launch.settled) {
      this.#enter(this.#stopping ? "Stopped" : "Failed");
      launch.settle(this.#startupFailure(reason, launch.loadFailure));
    } else if (this.#stopping) {
      this.#enter("Stopped");
    } else {
      this.#scheduleRestart();
    }
  }

  #startupFailure(reason: string, loadFailure: HostLoadError | undefined): PierError {
    if (this.#oomKilled) {
      return new PierError({
        code: "OutOfMemory",
        summary: `Instance ${this.id} used more than its ${(this.#config.memoryLimitBytes / 2 ** 20).toFixed(0)} MiB while loading the model and was killed (OOMKilled)`,
        details: [
          `peak resident memory ${(this.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
          ...this.recentLog.slice(-10),
        ],
        fix: "Use an instance_type with more memory, or lower the model's memory use.",
      });
    }
    return new PierError({
      // Azure's names for scoring-script failures pass through; other load failures are ModelLoadFailed.
      code: loadFailure
        ? /^UserScript/.test(loadFailure.type) && isCode(loadFailure.type)
          ? loadFailure.type
          : "ModelLoadFailed"
        : "ContainerCrashed",
      summary: loadFailure
        ? `Instance ${this.id} could not load the model: ${loadFailure.type}: ${loadFailure.message}`
        : `Instance ${this.id} ended before it was ready (${reason})`,
      details: this.recentLog.slice(-20),
      fix: "Read the inference-server log (`pier deployment get-logs`) for the cause; `pier model validate` checks the package.",
    });
  }

  /** Samples the process's memory; kills it as OOMKilled when over the limit. Returns true if killed. */
  #checkMemory(child: ChildProcess): boolean {
    const rss = treeResidentBytes(this.pid);
    this.peakRssBytes = Math.max(this.peakRssBytes, rss);
    if (rss <= this.#config.memoryLimitBytes || this.#oomKilled) return this.#oomKilled;
    this.#oomKilled = true;
    this.#event(
      { kind: "OOMKilled", data: { rssBytes: rss, limitBytes: this.#config.memoryLimitBytes } },
      `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB exceeded the limit of ${(this.#config.memoryLimitBytes / 2 ** 20).toFixed(0)} MiB; killed`,
    );
    child.kill("SIGKILL");
    return true;
  }

  #scheduleRestart(): void {
    const now = Date.now();
    this.#crashTimes = [...this.#crashTimes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const crashLoop = this.#crashTimes.length >= CRASH_LOOP_AFTER;
    const backoffMs = Math.min(30_000, 250 * 2 ** (this.#crashTimes.length - 1));
    this.#enter(crashLoop ? "CrashLoop" : "Restarting");
    this.restarts++;
    this.#event(
      {
        kind: crashLoop ? "CrashLoop" : "Restarting",
        data: { backoffMs, restarts: this.restarts, crashes: this.#crashTimes.length },
      },
      `restart ${this.restarts} in ${backoffMs} ms after ${this.lastExit}${crashLoop ? ` (${this.#crashTimes.length} crashes within ${CRASH_WINDOW_MS / 1000} s)` : ""}`,
    );
    const timer = setTimeout(() => {
      if (this.#stopping) return;
      this.#launch().catch(() => {
        if (!this.#stopping) this.#scheduleRestart();
      });
    }, backoffMs);
    this.#timers.push(timer);
  }

  #clearProbes(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }

  async #probeOnce(timeoutSeconds: number): Promise<boolean> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/`, {
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        headers: { [INSTANCE_TOKEN_HEADER]: this.#token },
      });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  #scheduleProbes(): void {
    const run = (probe: ProbeKind, settings: ProbeSettings, firstDelayMs: number) => {
      let failures = 0;
      let successes = 0;
      const tick = async () => {
        if (this.#stopping || !this.client) return;
        const ok = await this.#probeOnce(settings.timeout);
        if (ok) {
          failures = 0;
          successes++;
          if (probe === "readiness" && this.state === "Unready" && successes >= settings.success_threshold) {
            this.#enter("Ready");
            this.#event({ kind: "ReadyAgain", data: { successes } }, "readiness probe passes again");
          }
        } else {
          successes = 0;
          failures++;
          this.#event(
            { kind: "ProbeFailed", data: { probe, failures, threshold: settings.failure_threshold } },
            `${probe} probe failed (${failures}/${settings.failure_threshold})`,
          );
          if (failures >= settings.failure_threshold) {
            if (probe === "readiness" && this.state === "Ready") {
              this.#enter("Unready");
              this.#event(
                { kind: "Unready", data: { failures } },
                `readiness probe failed ${failures} times; no traffic until it passes`,
              );
            } else if (probe === "liveness") {
              this.#event(
                { kind: "LivenessFailed", data: { failures } },
                `liveness probe failed ${failures} times; restarting`,
              );
              this.#child?.kill("SIGKILL");
              return;
            }
          }
        }
        this.#timers.push(setTimeout(tick, settings.period * 1000));
      };
      this.#timers.push(setTimeout(tick, firstDelayMs));
    };
    run("liveness", this.#config.liveness, this.#config.liveness.initial_delay * 1000);
    run("readiness", this.#config.readiness, this.#config.readiness.initial_delay * 1000);
  }

  /** Graceful stop (SIGTERM), forced after `graceMs` (SIGKILL). */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopping = true;
    this.#clearProbes();
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.#enter("Stopping");
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(forced);
    }
    this.client?.close();
    this.client = undefined;
    this.#enter("Stopped");
    await new Promise<void>((resolve) => (this.#log ? this.#log.end(resolve) : resolve()));
    this.#log = undefined;
  }
}
