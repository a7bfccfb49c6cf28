/**
 * The practical limit for the gateway benchmark: a minimal Node HTTP server that scores with
 * onnxruntime-node in its own process, with no auth, routing, admission or second hop.
 */
import { createServer } from "node:http";
import { OnnxScorer } from "../src/runtime/index.js";

const scorer = await OnnxScorer.load(process.argv[2]!);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      input_data: Record<string, unknown>[];
    };
    const text = JSON.stringify(await scorer.score(body.input_data));
    res
      .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
      .end(text);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
});
