/**
 * The HTTP part of the benchmark's baselines: a bare Node server that reads a JSON body, answers with
 * what `answer` returns, and prints its port when it listens.
 */
import { createServer } from "node:http";

export function serveMinimal(answer: (body: unknown) => Promise<unknown>): void {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const text = JSON.stringify(await answer(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
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
}
