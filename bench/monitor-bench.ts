/**
 * What a monitoring report costs pier up's thread (reports and alert rules run on it): captured
 * model inputs of the financial model in Azure's record shape, 10 rows a record, read and measured
 * against the model's baseline, next to the floor of only parsing the same lines.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Baseline } from "../src/baseline/index.js";
import { readCaptured } from "../src/monitor/read.js";
import { deploymentSignals } from "../src/monitor/signals.js";
import { modelInputRows, synthesizeBankingRecords } from "../src/training/index.js";

export async function monitorBench(home: string, modelDir: string): Promise<string[]> {
  const baseline = JSON.parse(readFileSync(join(modelDir, "baseline.json"), "utf8")) as Baseline;
  const rows = modelInputRows(synthesizeBankingRecords({ rows: 10_000, seed: 9 }));
  const out: string[] = [];
  for (const total of [10_000, 100_000, 1_000_000]) {
    const root = join(home, `capture-${total}`);
    const dir = join(root, "modelDataCollector/bench/blue/model_inputs/2026/12/01/10");
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < total / 10; i++) {
      const data = rows.slice((i * 10) % rows.length, ((i * 10) % rows.length) + 10);
      lines.push(
        JSON.stringify({
          specversion: "1.0",
          id: `r${i}`,
          source: "/endpoints/bench/deployments/blue",
          type: "azureml.inference.model_inputs",
          datacontenttype: "application/json",
          time: new Date(Date.UTC(2026, 11, 1, 10, 0, i % 3600)).toISOString(),
          data,
          correlationid: `c${i}`,
          xrequestid: `x${i}`,
          modelversion: "1",
          collectdatatype: "pandas.core.frame.DataFrame",
          agent: "bench",
          contentrange: "bytes 0-1/2",
        }),
      );
    }
    const file = join(dir, "blue-0.jsonl");
    const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
    writeFileSync(file, `${lines.join("\n")}\n`);
    lines.length = 0;
    const from = Date.UTC(2026, 11, 1, 9);
    const to = Date.UTC(2026, 11, 1, 12);
    const timed = (fn: () => void) => {
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        fn();
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[1]!;
    };
    const floor = timed(() => {
      for (const line of readFileSync(file, "utf8").split("\n")) if (line) JSON.parse(line);
    });
    let sampled = "";
    let heapPeak = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    const report = timed(() => {
      const captured = readCaptured(root, "bench", "blue", from, to);
      sampled = `${captured.inputs.length} of ${captured.rowsInWindow} rows kept, ${captured.distinctRows} distinct`;
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBefore);
      deploymentSignals({
        endpoint: "bench",
        deployment: "blue",
        model: { name: "bench", version: 1 },
        from,
        to,
        capturing: true,
        baseline: { baseline, origin: "model package" },
        captured,
        traffic: [],
      });
    });
    out.push(
      `  ${String(total).padStart(7)} captured rows (${(bytes / 2 ** 20).toFixed(1)} MiB): report ${report.toFixed(0)} ms; only parsing the lines ${floor.toFixed(0)} ms; ratio ${(report / floor).toFixed(2)}; ${sampled}; heap held by the read ≈ ${(heapPeak / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  return out;
}
