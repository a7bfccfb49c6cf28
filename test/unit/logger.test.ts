import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../src/shared/index.js";

test("the logger writes at and above its level, as text for people or one JSON object per line", () => {
  const lines: string[] = [];
  const now = () => new Date("2026-12-01T12:00:00.000Z");
  const text = createLogger({ level: "warn", write: (l) => lines.push(l), now });
  text.info("not shown");
  text.warn("instance restarting", { instance: "blue-1", backoffMs: 250, note: "two words" });
  text.error("failed");
  assert.deepEqual(lines, [
    '2026-12-01T12:00:00.000Z WARN  instance restarting instance=blue-1 backoffMs=250 note="two words"',
    "2026-12-01T12:00:00.000Z ERROR failed",
  ]);
  assert.equal(text.enabled("info"), false);
  lines.length = 0;
  const json = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l), now });
  json.debug("api request", { method: "GET", path: "/api/v1/endpoints", skipped: undefined });
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "2026-12-01T12:00:00.000Z",
    level: "debug",
    msg: "api request",
    method: "GET",
    path: "/api/v1/endpoints",
  });
  const silent = createLogger({ level: "silent", write: (l) => lines.push(l) });
  silent.error("nothing");
  assert.equal(lines.length, 1);
});
