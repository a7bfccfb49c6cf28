/**
 * Training work a pipeline run asks for — reading its data file, training, scoring the held-out rows —
 * done in a child process at the lowest CPU priority, with a deadline. The process that answers
 * scoring requests only waits for the answer: a training of minutes, a data file of gigabytes or a
 * model that crashes ONNX Runtime costs the run its step, never a scoring request its latency.
 */
import { fork } from "node:child_process";
import { type Code, PierError, type PierErrorJson } from "../shared/index.js";
import type { Evaluation, TrainOptions, TrainReport } from "./train.js";

export type WorkJob =
  | { kind: "inspect"; path: string }
  | { kind: "synthesize"; path: string; rows: number; seed: number }
  | { kind: "train"; options: Omit<TrainOptions, "onEvent"> }
  | {
      kind: "evaluate";
      dataPath: string;
      target: string;
      testFraction: number;
      /** Fewer held-out rows than this (or fewer than 5 of a class): nothing is scored. */
      minRows: number;
      /** Model folders, each scored on the same held-out rows. */
      models: string[];
    };

export type WorkResult =
  | { kind: "inspect"; sha256: string; rows: number }
  | { kind: "synthesize" }
  | { kind: "train"; report: TrainReport }
  | { kind: "evaluate"; rows: number; positives: number; evaluations: Evaluation[] };

type ResultOf<K extends WorkJob["kind"]> = Extract<WorkResult, { kind: K }>;

/** How long each kind of job may take before it is stopped. */
const WORK_DEADLINE_MS: Record<WorkJob["kind"], number> = {
  inspect: 5 * 60_000,
  synthesize: 10 * 60_000,
  train: 60 * 60_000,
  evaluate: 20 * 60_000,
};

/** Runs `job` in a child process; rejects with its error (as it was raised there), a timeout, or an abort. */
export function runWork<J extends WorkJob>(
  job: J,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ResultOf<J["kind"]>> {
  const timeoutMs = options.timeoutMs ?? WORK_DEADLINE_MS[job.kind];
  return new Promise((resolve, reject) => {
    const child = fork(new URL("./work-main.js", import.meta.url), [], {
      execArgv: [],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4000);
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
      if (child.exitCode === null) child.kill("SIGKILL");
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new PierError({
              code: "WorkTimedOut",
              summary: `The pipeline's ${job.kind} step did not finish within ${Math.round(timeoutMs / 60_000)} min and was stopped`,
              fix:
                job.kind === "train"
                  ? "Train on fewer rows, or with a smaller train.search."
                  : "Use a smaller data file.",
            }),
          ),
        ),
      timeoutMs,
    );
    timer.unref();
    const abort = () => finish(() => reject(new PierError({ code: "Cancelled", summary: "pier stopped" })));
    options.signal?.addEventListener("abort", abort, { once: true });
    child.on("message", (message: { result?: WorkResult; error?: PierErrorJson & { stack: string } }) => {
      if (message.result) finish(() => resolve(message.result as ResultOf<J["kind"]>));
      else if (message.error) {
        const { code, summary, details, fix, data } = message.error;
        finish(() =>
          reject(
            new PierError({
              code: code as Code,
              summary,
              details,
              ...(fix ? { fix } : {}),
              ...(data ? { data } : {}),
            }),
          ),
        );
      }
    });
    child.on("exit", (code, signal) =>
      finish(() =>
        reject(
          new PierError({
            code: "InternalError",
            summary: `The pipeline's ${job.kind} process ended (${signal ?? `exit ${code}`}) without an answer`,
            details: stderr.trim().split("\n").slice(-8),
          }),
        ),
      ),
    );
    child.send(job);
  });
}
