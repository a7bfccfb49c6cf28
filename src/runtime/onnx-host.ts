/**
 * The ONNX runtime host: the process pier starts for each instance of an ONNX model. It loads the
 * model directory named by PIER_MODEL_DIR with onnxruntime-node, listens on 127.0.0.1 (port 0), and
 * reports READY (or the load failure) on fd 3. Scoring failures are answered, never swallowed.
 */
import { timingSafeEqual } from "node:crypto";
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import { Socket } from "node:net";
import { PierError, parseJson, userError } from "../shared/index.js";
import {
  HOST_MESSAGE_FD,
  type HostMessage,
  INSTANCE_TOKEN_HEADER,
  type InvokeRequest,
  LOAD_FAILED_EXIT_CODE,
} from "./host-protocol.js";
import { encodeFrame, FrameDecoder, INVOKE_CHANNEL_FD } from "./invoke-channel.js";
import { BULK_BYTES, BulkLane, errorAnswer } from "./onnx-bulk.js";
import { OnnxScorer } from "./onnx-scorer.js";

/**
 * Before it says READY, the host scores one request: the input example (PIER_SMOKE_REQUEST, a
 * request as the gateway would send it) or, lacking one, zeros of each input's declared shape with
 * every variable dimension 1. A model that cannot run fails its start with ONNX Runtime's message.
 */
async function smokeTest(scorer: OnnxScorer): Promise<string> {
  const example = process.env.PIER_SMOKE_REQUEST;
  const request: InvokeRequest = example
    ? (parseJson(example).value as InvokeRequest)
    : {
        tensors: Object.fromEntries(
          scorer.inputs.tensors.map((t) => {
            const shape = (t.shape ?? [1]).map((d) => (d < 0 ? 1 : d));
            const zero = t.dtype === "string" ? "" : t.dtype === "bool" ? false : 0;
            return [t.name, { shape, data: Array(shape.reduce((a, b) => a * b, 1)).fill(zero) }];
          }),
        ),
      };
  const [result] = await scorer.scoreMany([request]);
  if (!result!.ok) {
    const error = result!.error as Error;
    throw new PierError({
      code: "ModelLoadFailed",
      summary: `the model loaded but its startup prediction on ${example ? "the input example" : "zeros of its declared input shapes"} failed: ${error instanceof PierError ? error.summary : error.message}`,
      fix: example
        ? "Check that the input example fits the model's inputs, or fix the model."
        : "Check that the model runs in ONNX Runtime (python -c \"import onnxruntime as rt; rt.InferenceSession('model.onnx')\") and that its opsets are supported.",
    });
  }
  return `passed on ${example ? "the input example" : "zeros of its declared shapes"}`;
}

const messages = createWriteStream("", { fd: HOST_MESSAGE_FD });
const send = (message: HostMessage) => messages.write(`${JSON.stringify(message)}\n`);
const log = (text: string) =>
  process.stdout.write(`${new Date().toISOString()} I [${process.pid}] onnx-host - ${text}\n`);

/**
 * Fault injection, for testing pier's timeouts, admission, error mapping and memory limits with a
 * real process: PIER_CHAOS_DELAY_MS sleeps before each score, PIER_CHAOS_MODEL_ERROR=1 makes every
 * score fail as a model error would (PIER_CHAOS_ERROR_EVERY=N every Nth request), PIER_CHAOS_ALLOCATE_MB
 * holds that much memory from load on, PIER_CHAOS_CRASH_AFTER=N ends the process at its Nth request.
 */
const chaos = {
  delayMs: Number(process.env.PIER_CHAOS_DELAY_MS ?? 0),
  modelError: process.env.PIER_CHAOS_MODEL_ERROR === "1",
  errorEvery: Number(process.env.PIER_CHAOS_ERROR_EVERY ?? 0),
  allocateMb: Number(process.env.PIER_CHAOS_ALLOCATE_MB ?? 0),
  crashAfter: Number(process.env.PIER_CHAOS_CRASH_AFTER ?? 0),
};
/** Requests scored so far, for the chaos options that count them. */
let scoredRequests = 0;
let ballast: Buffer | undefined;

async function main(): Promise<void> {
  if (chaos.allocateMb > 0) ballast = Buffer.alloc(chaos.allocateMb * 2 ** 20, 1);
  const modelDir = process.env.PIER_MODEL_DIR;
  if (!modelDir) throw new Error("PIER_MODEL_DIR is not set");
  const threads = Number(process.env.PIER_INTRA_OP_THREADS ?? "1");
  const started = performance.now();
  const scorer = await OnnxScorer.load(modelDir, { intraOpThreads: threads });
  const smoke = await smokeTest(scorer);
  const loadMs = performance.now() - started;
  log(
    `model loaded from ${modelDir} in ${loadMs.toFixed(1)} ms (inputs: ${scorer.inputs.tensors.map((t) => `${t.name} ${t.dtype} [${t.shape?.join(", ")}]`).join("; ")}); startup prediction ${smoke}`,
  );

  /**
   * Scores requests that arrived together (OnnxScorer.scoreMany shares one ONNX Runtime run among
   * them when it can); every request gets its own answer or error.
   */
  async function scoreTogether(payloads: readonly string[]): Promise<{ status: number; body: string }[]> {
    if (chaos.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.delayMs));
    const requests: (InvokeRequest | undefined)[] = payloads.map((payload) => {
      try {
        return parseJson(payload).value as InvokeRequest;
      } catch {
        return undefined;
      }
    });
    const valid = requests.filter((r): r is InvokeRequest => r !== undefined);
    scoredRequests += valid.length;
    if (chaos.crashAfter > 0 && scoredRequests >= chaos.crashAfter) {
      process.stderr.write(`injected crash after ${scoredRequests} requests (PIER_CHAOS_CRASH_AFTER)\n`);
      process.exit(3);
    }
    const injected = (i: number) =>
      chaos.modelError ||
      (chaos.errorEvery > 0 && (scoredRequests - valid.length + i + 1) % chaos.errorEvery === 0);
    const scored = (await scorer.scoreMany(valid)).map((result, i) =>
      injected(i)
        ? {
            ok: false as const,
            error: new Error("injected model failure (PIER_CHAOS_MODEL_ERROR or _ERROR_EVERY)"),
          }
        : result,
    );
    let k = 0;
    return requests.map((request) => {
      const result = request
        ? scored[k++]!
        : { ok: false as const, error: userError("InvalidJson", "The request is not JSON", "Send JSON.") };
      if (result.ok) return { status: 200, body: JSON.stringify(result.value) };
      const failure = errorAnswer(result.error);
      return { status: failure.status, body: JSON.stringify(failure.body) };
    });
  }

  const channel = new Socket({ fd: INVOKE_CHANNEL_FD, readable: true, writable: true });
  const decoder = new FrameDecoder();
  let inFlight = 0;
  let onDrained: (() => void) | undefined;
  const bulk = new BulkLane(modelDir, threads);
  /** Answers a group of frames; the group's replies leave together, in one write. */
  const answerGroup = (
    group: { id: number; payload: Buffer }[],
    scored: Promise<{ status: number; body: string }[]>,
  ) => {
    inFlight += group.length;
    void scored
      // Whatever goes wrong, every request gets an answer: none is left to time out.
      .catch((error: unknown) =>
        group.map(() => ({ status: 500, body: JSON.stringify(errorAnswer(error).body) })),
      )
      .then((answers) => {
        const replies = answers.map((a, i) => encodeFrame(group[i]!.id, a.status, a.body));
        channel.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
        inFlight -= group.length;
        if (inFlight === 0) onDrained?.();
      });
  };
  // Small requests that arrived together are scored together here; each large one in the bulk lane,
  // so that none of the small ones waits for it.
  channel.on("data", (chunk: Buffer) => {
    const frames = decoder.push(chunk);
    const small = frames.filter((f) => f.payload.length < BULK_BYTES);
    if (small.length > 0) answerGroup(small, scoreTogether(small.map((f) => f.payload.toString("utf8"))));
    for (const frame of frames)
      if (frame.payload.length >= BULK_BYTES) {
        scoredRequests++;
        answerGroup(
          [frame],
          bulk.score(frame.payload).then((reply) => [reply]),
        );
      }
  });
  // pier holds the other end: when it is gone, so is every reason to keep running.
  channel.on("end", () => process.exit(0));
  channel.on("error", () => process.exit(0));

  const token = Buffer.from(process.env.PIER_INSTANCE_TOKEN ?? "");
  const server = createServer((req, res) => {
    // Only pier calls this port: without the process's secret, nothing (not even the health probe).
    const given = Buffer.from(String(req.headers[INSTANCE_TOKEN_HEADER] ?? ""));
    if (token.length > 0 && (given.length !== token.length || !timingSafeEqual(given, token))) {
      res.writeHead(403).end();
      return;
    }
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
      const text = reply!.body;
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
