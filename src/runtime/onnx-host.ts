/**
 * The ONNX runtime host: the process pier starts for each instance of an ONNX model. It loads the
 * model directory named by PIER_MODEL_DIR with onnxruntime-node, listens on 127.0.0.1 (port 0), and
 * reports READY (or the load failure) on fd 3. Scoring failures are answered, never swallowed.
 */
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import { PierError } from "../shared/index.js";
import {
  HOST_MESSAGE_FD,
  type HostErrorBody,
  type HostMessage,
  type InvokeRequest,
  LOAD_FAILED_EXIT_CODE,
} from "./host-protocol.js";
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
      const reply = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res
          .writeHead(status, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(text),
          })
          .end(text);
      };
      try {
        const request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as InvokeRequest;
        // Positional rows (a model logged without a signature) follow the ONNX inputs' order.
        const records =
          "records" in request
            ? request.records
            : request.rows.map((row) =>
                Object.fromEntries(scorer.feeds.map((feed, i) => [feed.name, row[i]])),
              );
        if (chaos.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.delayMs));
        if (chaos.modelError) throw new Error("injected model failure (PIER_CHAOS_MODEL_ERROR)");
        reply(200, await scorer.score(records));
      } catch (error) {
        const input = error instanceof PierError && error.kind === "user";
        const body: HostErrorBody = {
          error: {
            code: input ? (error as PierError).code : "ModelError",
            message: (error as Error).message,
            kind: input ? "input" : "model",
          },
        };
        if (!input)
          process.stderr.write(
            `${new Date().toISOString()} E [${process.pid}] onnx-host - ${(error as Error).stack}\n`,
          );
        reply(input ? 400 : 500, body);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    log(
      `listening on 127.0.0.1:${port}${ballast ? ` (holding ${chaos.allocateMb} MiB: PIER_CHAOS_ALLOCATE_MB)` : ""}`,
    );
    send({ type: "ready", port, loadMs, runtime: "onnx" });
  });
  const shutdown = () => server.close(() => process.exit(0));
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
