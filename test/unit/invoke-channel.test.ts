import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { test } from "node:test";
import {
  encodeFrame,
  FrameDecoder,
  INVOKE_CHANNEL_FD,
  InvokeChannelClient,
  type InvokeOutcome,
} from "../../src/runtime/invoke-channel.js";
import { REPO_ROOT, trainedWorkspace } from "../helpers.js";

test("frames survive any split of the byte stream and several frames in one chunk", () => {
  const frames = [
    encodeFrame(1, 0, '{"records":[{"a":1}]}'),
    encodeFrame(2, 200, "[]"),
    encodeFrame(0xffffffff, 424, `"${"é".repeat(3000)}"`),
  ];
  const stream = Buffer.concat(frames);
  for (const cut of [1, 3, 9, 10, 11, 25, stream.length - 1]) {
    const decoder = new FrameDecoder();
    const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(
      got.map((f) => [f.id, f.status, f.payload.toString("utf8")]),
      [
        [1, 0, '{"records":[{"a":1}]}'],
        [2, 200, "[]"],
        [0xffffffff, 424, `"${"é".repeat(3000)}"`],
      ],
      `cut at ${cut}`,
    );
  }
  const decoder = new FrameDecoder();
  const byByte = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
  assert.equal(byByte.length, 3);
});

test("ONNX host over its invoke channel: requests sent together get the answers they get alone; a bad one gets its own 400; losing the host fails what waits", async (t) => {
  const workspace = await trainedWorkspace("pier-channel-");
  t.after(workspace.cleanup);
  const example = JSON.parse(readFileSync(join(workspace.model, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const records = example.data.map((row) => Object.fromEntries(example.columns.map((c, i) => [c, row[i]])));
  const child = spawn(process.execPath, [join(REPO_ROOT, "dist/src/runtime/onnx-host.js")], {
    env: { ...process.env, PIER_MODEL_DIR: workspace.model },
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  t.after(() => child.kill("SIGKILL"));
  const ready = await new Promise<{ channel?: boolean }>((resolve, reject) => {
    createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on("line", (line) =>
      resolve(JSON.parse(line)),
    );
    child.on("exit", (code) => reject(new Error(`host exited with ${code}`)));
  });
  assert.equal(ready.channel, true);
  const client = new InvokeChannelClient(child.stdio[INVOKE_CHANNEL_FD] as Duplex);

  const alone: unknown[] = [];
  for (const record of records) {
    const outcome = await client.invoke(JSON.stringify({ records: [record] }), 10_000);
    assert.ok("status" in outcome && outcome.status === 200, JSON.stringify(outcome));
    alone.push(JSON.parse(outcome.text)[0]);
  }
  // Everything below is written in one turn of the event loop, so it reaches the host together.
  const bad = { records: [{ ...records[0], Age: "forty" }] };
  const together = await Promise.all([
    ...records.map((record) => client.invoke(JSON.stringify({ records: [record] }), 10_000)),
    client.invoke(JSON.stringify(bad), 10_000),
    client.invoke(JSON.stringify({ records }), 10_000),
  ]);
  const texts = together.map((o) => (o as { status: number; text: string }).text);
  records.forEach((_, i) => {
    assert.equal((together[i] as { status: number }).status, 200);
    assert.deepEqual(JSON.parse(texts[i]!)[0], alone[i]);
  });
  const badOutcome = together[records.length] as { status: number; text: string };
  assert.equal(badOutcome.status, 400);
  assert.match(
    JSON.parse(badOutcome.text).error.message,
    /Incompatible input types for column Age\. Can not safely convert string to double \(row 0/,
  );
  assert.deepEqual(JSON.parse(texts[records.length + 1]!), alone);

  // A request the host never answers (it is stopped) fails as a lost connection, not a hang.
  child.kill("SIGSTOP");
  const waiting = client.invoke(JSON.stringify({ records: [records[0]] }), 60_000);
  await new Promise((resolve) => setImmediate(resolve)); // the request leaves at the end of this turn
  child.kill("SIGKILL");
  assert.deepEqual(await waiting, { failure: "connection" } satisfies InvokeOutcome);
  assert.deepEqual(await client.invoke("{}", 1000), { failure: "connection" });
});
