/**
 * `npm run chaos`: the reliability suite at full size (30 s windows at 16 clients, as an operator
 * would try it), small requests next to 4 MiB ones, then the malformed-request corpus. Prints each scenario's figures; exits 1 if any
 * request was lost or got a status none is allowed to be, or if a frozen instance cost more than 10 %
 * of the throughput.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, trainedWorkspace } from "../helpers.js";
import {
  type ChaosReport,
  type ChaosSize,
  instanceFaults,
  largeBodies,
  managementBeside,
  outOfMemoryInRun,
  pierKillRestart,
  stopInFlight,
  storeCorruption,
} from "./scenarios.js";

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
const size: ChaosSize = {
  seconds: Number(process.env.PIER_CHAOS_SECONDS ?? 30),
  clients: Number(process.env.PIER_CHAOS_CLIENTS ?? 16),
};

function print(report: ChaosReport): void {
  console.log(`\n${report.failures.length ? "✘" : "✔"} ${report.scenario}`);
  for (const [name, value] of Object.entries(report.figures)) console.log(`    ${name.padEnd(36)} ${value}`);
  for (const failure of report.failures) console.log(`    FAILED: ${failure}`);
}

async function main(): Promise<number> {
  console.log(`pier chaos: ${size.seconds} s windows, ${size.clients} clients`);
  const work = await trainedWorkspace("pier-chaos-", 600);
  cleanups.push(work.cleanup);
  const reports: ChaosReport[] = [];
  // PIER_CHAOS_ONLY=large,management runs only the scenarios named (faults, restart, stop, store, oom, large, management, corpus).
  const only = process.env.PIER_CHAOS_ONLY?.split(",");
  const run = async (name: string, scenario: () => Promise<ChaosReport | ChaosReport[]>) => {
    if (only && !only.includes(name)) return;
    for (const report of [await scenario()].flat()) {
      print(report);
      reports.push(report);
    }
    // Each scenario's pier stops before the next starts.
    for (const fn of cleanups.splice(1).reverse()) await fn();
  };
  await run("faults", async () => {
    const [killed, frozen] = await instanceFaults(t, work, size);
    const ratio = Number(frozen!.figures["throughput frozen / before"]);
    if (ratio < 0.9)
      frozen!.failures.push(`throughput while frozen is ${ratio} of before (at least 0.9 expected)`);
    return [killed!, frozen!];
  });
  await run("restart", () => pierKillRestart(t, work, size));
  await run("stop", () => stopInFlight(t, work, size));
  await run("store", () => storeCorruption(t, work));
  await run("oom", () => outOfMemoryInRun(t, work));
  await run("large", () => largeBodies(t, work, size));
  await run("management", () => managementBeside(t, work, size));

  if (!only || only.includes("corpus")) {
    console.log("\n… the malformed-request corpus (test/server/malformed.test.ts):");
    const corpus = spawnSync(
      process.execPath,
      ["--test", join(REPO_ROOT, "dist/test/server/malformed.test.js")],
      { encoding: "utf8" },
    );
    const summary = corpus.stdout.split("\n").filter((line) => /^# (pass|fail)/.test(line));
    console.log(`    ${summary.join(", ")}`);
    reports.push({
      scenario: "malformed corpus",
      figures: {},
      failures: corpus.status === 0 ? [] : [corpus.stdout.slice(-2000)],
    });
  }

  const failed = reports.filter((r) => r.failures.length > 0);
  console.log(`\n${reports.length - failed.length} held, ${failed.length} failed`);
  return failed.length > 0 ? 1 : 0;
}

main()
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  )
  .finally(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
