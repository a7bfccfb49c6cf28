/**
 * The ONNX runtime host: the process pier starts for each instance of an ONNX model. It loads the
 * model directory named by PIER_MODEL_DIR with onnxruntime-node, listens on 127.0.0.1 (port 0), and
 * reports READY (or the load failure) on fd 3. Scoring failures are answered, never swallowed.
 */
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import { Socket } from "node:net";
import { PierError } from "../shared/index.js";
import {
  HOST_MESSAGE_FD,
  type HostErrorBody,
  type HostMessage,
  type InvokeRequest,
  LOAD_FAILED_EXIT_CODE,
} from "./host-protocol.js";
import { encodeFrame, FrameDecoder, INVOKE_CHANNEL_FD } from "./invoke-channel.js";
import { OnnxScorer } from "./onnx-scorer.js";

const messages = createWriteStream("", { fd: HOST_MESSAGE_FD });
const send = (message: HostMessage) => messages.write(`${JSON.stringify(message)}\n`);
const log = (text: string) =>
  process.stdout.write(`${new Date().toISOString()} I [${process.pid}] onnx-host - ${text}\n`);

/**
 * Fault injection, for testing pier's timeouts, admission, error mapping and memory limits with a
 * real process: PIER_CHAOS_DELAY_MS sleeps before each score, PIER_CHAOS_MODEL_ERROR=1 makes every
 * score fail as a model error would, PIER_CHAOS_ALLOCATE_MB holds that much memory from load on.
 */
const chaos = {
  delayMs: Number(process.env.PIER_CHAOS_DELAY_MS ?? 0),
  modelError: process.env.PIER_CHAOS_MODEL_ERROR === "1",
  allocateMb: Number(process.env.PIER_CHAOS_ALLOCATE_MB ?? 0),
};
let ballast: Buffer | undefined;

async function main(): Promise<void> {
  if (chaos.allocateMb > 0) ballast = Buffer.alloc(chaos.allocateMb * 2 ** 20, 1);
  const modelDir = process.env.PIER_MODEL_DIR;
  if (!modelDir) throw new Error("PIER_MODEL_DIR is not set");
  const threads = Number(process.env.PIER_INTRA_OP_THREADS ?? "1");
  const started = performance.now();
  const scorer = await OnnxScorer.load(modelDir, { intraOpThreads: threads });
  const loadMs = performance.now() - started;
  log(
    `model loaded from ${modelDir} in ${loadMs.toFixed(1)} ms (inputs: ${scorer.feeds.map((f) => f.name).join(", ")})`,
  );

  /** One request's answer: predictions, a 400 for bad input, or a 500 for a model failure. */
  const answer = (error: unknown): { status: number; body: HostErrorBody } => {
    const input = error instanceof PierError && error.class === "user";
    if (!input)
      process.stderr.write(
        `${new Date().toISOString()} E [${process.pid}] onnx-host - ${(error as Error).stack}\n`,
      );
    return {
      status: input ? 400 : 500,
      body: {
        error: {
          code: input ? (error as PierError).code : "ModelError",
          message: (error as Error).message,
          kind: input ? "input" : "model",
        },
      },
    };
  };
  // Positional rows (a model logged without a signature) follow the ONNX inputs' order.
  const recordsOf = (request: InvokeRequest): Record<string, unknown>[] =>
    "records" in request
      ? request.records
      : request.rows.map((row) => Object.fromEntries(scorer.feeds.map((feed, i) => [feed.name, row[i]])));

  /**
   * Scores requests that arrived together in one ONNX Runtime run (rows are independent, so the
   * answers are the same as one run each); if the batch fails, each request is scored alone so
   * that every one gets its own answer and error message.
   */
  async function scoreTogether(payloads: readonly string[]): Promise<{ status: number; body: unknown }[]> {
    if (chaos.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.delayMs));
    const one = async (payload: string) => {
      try {
        if (chaos.modelError) throw new Error("injected model failure (PIER_CHAOS_MODEL_ERROR)");
        return { status: 200, body: await scorer.score(recordsOf(JSON.parse(payload) as InvokeRequest)) };
      } catch (error) {
        return answer(error);
      }
    };
    if (payloads.length === 1 || chaos.modelError) return Promise.all(payloads.map(one));
    try {
      const batches = payloads.map((payload) => recordsOf(JSON.parse(payload) as InvokeRequest));
      const rows = await scorer.score(batches.flat());
      let offset = 0;
      return batches.map((records) => {
        offset += records.length;
        return { status: 200, body: rows.slice(offset - records.length, offset) };
      });
    } catch {
      return Promise.all(payloads.map(one));
    }
  }

  const channel = new Socket({ fd: INVOKE_CHANNEL_FD, readable: true, writable: true });
  const decoder = new FrameDecoder();
  let inFlight = 0;
  let onDrained: (() => void) | undefined;
  channel.on("data", (chunk: Buffer) => {
    const frames = decoder.push(chunk);
    if (frames.length === 0) return;
    inFlight += frames.length;
    void scoreTogether(frames.map((f) => f.payload.toString("utf8")))
      // Whatever goes wrong, every request gets an answer: none is left to time out.
      .catch((error: unknown) => frames.map(() => answer(error)))
      .then((answers) => {
        // The answers to one chunk's requests leave together, in one write.
        const replies = answers.map((a, i) => encodeFrame(frames[i]!.id, a.status, JSON.stringify(a.body)));
        channel.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
        inFlight -= frames.length;
        if (inFlight === 0) onDrained?.();
      });
  });
  // pier holds the other end: when it is gone, so is every reason to keep running.
  channel.on("end", () => process.exit(0));
  channel.on("error", () => process.exit(0));

  const server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/" || req.url === "/health")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("Healthy");
      return;
    }
    if (req.method !== "POST" || req.url !== "/invoke") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const [reply] = await scoreTogether([Buffer.concat(chunks).toString("utf8")]);
      const text = JSON.stringify(reply!.body);
      res
        .writeHead(reply!.status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        })
        .end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    log(
      `listening on 127.0.0.1:${port}${ballast ? ` (holding ${chaos.allocateMb} MiB: PIER_CHAOS_ALLOCATE_MB)` : ""}`,
    );
    send({ type: "ready", port, loadMs, runtime: "onnx", channel: true });
  });
  // A graceful stop answers what was already sent, then exits.
  const shutdown = () => {
    server.close();
    onDrained = () => setImmediate(() => channel.end(() => process.exit(0)));
    if (inFlight === 0) onDrained();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: Error) => {
  const message =
    error instanceof PierError
      ? `${error.code}: ${error.summary}${error.details.length ? ` (${error.details.join("; ")})` : ""}`
      : error.message;
  process.stderr.write(
    `${new Date().toISOString()} E [${process.pid}] onnx-host - model load failed: ${message}\n${error.stack ?? ""}\n`,
  );
  send({
    type: "load-failed",
    error: {
      type: error instanceof PierError ? error.code : error.name,
      message,
      traceback: (error.stack ?? "").split("\n").slice(1),
    },
  });
  messages.end(() => process.exit(LOAD_FAILED_EXIT_CODE));
});
