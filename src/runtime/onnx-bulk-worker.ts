/** The ONNX host's bulk lane (onnx-bulk.ts): its own session, at the lowest priority (SCHED_IDLE), one large request at a time. */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThreadPriority } from "../shared/index.js";
import { errorAnswer, scoreOne } from "./onnx-bulk.js";
import { OnnxScorer } from "./onnx-scorer.js";

void lowerThreadPriority();
const { modelDir, intraOpThreads } = workerData as { modelDir: string; intraOpThreads: number };
const loaded = OnnxScorer.load(modelDir, { intraOpThreads });

parentPort?.on("message", ({ id, payload }: { id: number; payload: Uint8Array }) => {
  void loaded
    .then((scorer) =>
      scoreOne(scorer, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8")),
    )
    .catch((error: unknown) => {
      const failure = errorAnswer(error);
      return { status: failure.status, body: JSON.stringify(failure.body) };
    })
    .then((reply) => parentPort?.postMessage({ id, reply }));
});
