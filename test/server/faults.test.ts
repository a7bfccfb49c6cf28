import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { DeploymentReport } from "../../src/api/index.js";
import type { DoctorReport } from "../../src/doctor/index.js";
import type { FixRecord } from "../../src/fix/index.js";
import {
  cli,
  post,
  REPO_ROOT,
  type RunningPier,
  servePier,
  tempDir,
  waitFor,
  writeWheel,
} from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
const CORPUS = join(REPO_ROOT, "test/faults");

interface FaultCase {
  name: string;
  cause: string;
  expect: string;
  fixable: boolean;
  kind?: "port";
  load?: { requests: number; concurrency: number };
  wheels?: Record<string, string>;
}

const cases: FaultCase[] = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => ({ name: d.name, ...JSON.parse(readFileSync(join(CORPUS, d.name, "case.json"), "utf8")) }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Sends `requests` scoring requests, `concurrency` at a time; returns how many got each status. */
async function load(
  pier: RunningPier,
  key: string,
  name: string,
  plan: { requests: number; concurrency: number },
) {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (next < plan.requests) {
        next++;
        const { status } = await post(
          `${pier.url}/endpoints/faults/score`,
          { data: [[1, 2, 3, 4]] },
          { authorization: `Bearer ${key}`, "azureml-model-deployment": name },
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

/** Asks the doctor until its first diagnosis is `expected` (evidence such as a late load takes a moment). */
async function diagnose(pier: RunningPier, name: string, expected: string, fixable: boolean) {
  const started = Date.now();
  let report: DoctorReport | undefined;
  try {
    await waitFor(
      async () => {
        const result = await pier.run(["doctor", "faults", name, "-o", "json"]);
        [report] = JSON.parse(result.stdout) as DoctorReport[];
        const first = report!.diagnoses[0];
        return first?.code === expected && (!fixable || first.actions.length > 0);
      },
      `the doctor to name ${expected}`,
      20_000,
    );
  } catch {
    // The caller asserts on what the doctor said last, which names what it found instead.
  }
  return { report: report!, waitedMs: Date.now() - started };
}

async function portCase(t: TestContext, c: FaultCase) {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const started = Date.now();
  const result = await cli(["up", "--port", String(port), "--no-default-model", "-o", "json"]);
  const ms = Date.now() - started;
  assert.equal(result.code, 1);
  const error = JSON.parse(result.stdout).error;
  assert.equal(error.code, c.expect);
  assert.match(
    error.summary,
    new RegExp(`in use by process ${process.pid}\\b`),
    "names the process holding it",
  );
  assert.match(error.fix, /pier up --port 0/);
  const fixed = await servePier(t); // the fix: --port 0, any free port
  assert.match(fixed.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { code: error.code as string, ms, fixed: true };
}

test("fault corpus: every case gets its own right code, and the fix it suggests makes each fixable case deploy", async (t) => {
  const wheels = tempDir(t, "pier-wheels-");
  for (const c of cases)
    for (const [name, version] of Object.entries(c.wheels ?? {}))
      writeWheel(wheels, name, version, "VALUE = 1\n");
  const pier = await servePier(t, { env: { PIER_PYTHON: PYTHON, PIER_PIP_FIND_LINKS: wheels } });
  assert.equal((await pier.run(["endpoint", "create", "-n", "faults"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "faults", "-o", "json"])).stdout)
    .primaryKey as string;

  const results: {
    name: string;
    expected: string;
    got: string;
    waitedMs: number;
    doctorMs: number;
    fixed?: boolean;
    /** From the failed create to a serving deployment, as pier doctor --fix measured it. */
    fixMs?: number | undefined;
  }[] = [];
  for (const c of cases) {
    await t.test(`${c.name}: ${c.cause} → ${c.expect}`, async (st) => {
      if (c.kind === "port") {
        const outcome = await portCase(st, c);
        results.push({
          name: c.name,
          expected: c.expect,
          got: outcome.code,
          waitedMs: outcome.ms,
          doctorMs: outcome.ms,
          fixed: true,
        });
        return;
      }
      const dir = tempDir(st, `pier-fault-${c.name}-`);
      cpSync(join(CORPUS, c.name), dir, { recursive: true });
      if (existsSync(join(dir, "make.py"))) execFileSync(PYTHON, [join(dir, "make.py"), dir]);
      const created = await pier.run([
        "deployment",
        "create",
        "-f",
        join(dir, "deployment.yml"),
        "-o",
        "json",
      ]);
      const view = JSON.parse(created.stdout) as DeploymentReport;
      if (c.load) {
        assert.equal(view.provisioning_state, "Succeeded", created.stderr);
        await load(pier, key, c.name, c.load);
      } else if (c.expect !== "CrashLoop") {
        assert.equal(view.provisioning_state, "Failed", `${c.name} should fail:\n${created.stderr}`);
        assert.ok(view.diagnoses?.length, "a Failed deployment carries its diagnoses");
      }
      const { report, waitedMs } = await diagnose(pier, c.name, c.expect, c.fixable);
      const first = report.diagnoses[0];
      results.push({
        name: c.name,
        expected: c.expect,
        got: first?.code ?? "none",
        waitedMs,
        doctorMs: report.ms,
      });
      assert.equal(first?.code, c.expect, JSON.stringify(report.diagnoses, null, 2));
      assert.ok(first!.evidence.length > 0, "the diagnosis shows its evidence");
      assert.ok(first!.fix.length > 0, "the diagnosis says how to fix it");
      if (!c.fixable) return;

      // pier applies the fix itself: the diff of the case's own files, the update, the proof.
      const request = join(dir, "request.json");
      writeFileSync(request, JSON.stringify({ data: [[1, 2, 3, 4]] }));
      const fixed = await pier.run([
        "doctor",
        "faults",
        c.name,
        "--fix",
        "--yes",
        "--request-file",
        request,
        "-o",
        "json",
      ]);
      const record = JSON.parse(fixed.stdout) as FixRecord;
      assert.equal(fixed.code, 0, `pier doctor --fix:\n${fixed.stderr}\n${fixed.stdout}`);
      const last = record.rounds.at(-1)!;
      assert.equal(last.outcome, "served", JSON.stringify(record.rounds, null, 2));
      // A round whose cause came back asking for more was written over by the next: the last of each cause holds.
      const kept = record.rounds.filter((r, i) =>
        record.rounds.slice(i + 1).every((later) => later.code !== r.code),
      );
      for (const round of kept)
        for (const line of round.diff.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++"))) {
          const shown = line.slice(1);
          assert.ok(
            round.files.some((f) => readFileSync(f, "utf8").split("\n").includes(shown)),
            `the file holds what the diff showed: ${shown}`,
          );
        }
      const yaml = readFileSync(join(dir, "deployment.yml"), "utf8");
      for (const comment of readFileSync(join(CORPUS, c.name, "deployment.yml"), "utf8").match(/#.*$/gm) ??
        [])
        assert.ok(yaml.includes(comment), `the comment survives: ${comment}`);
      if (c.load) {
        const statuses = await load(pier, key, c.name, c.load);
        assert.deepEqual(statuses, { 200: c.load.requests }, "the same traffic is served once fixed");
      }
      results.at(-1)!.fixMs = record.msToServing ?? undefined;
      results.at(-1)!.fixed = true;
    });
  }
  // Without a name the doctor examines every deployment: the unfixable cases are still wrong.
  const everything = await pier.run(["doctor", "-o", "json"]);
  assert.equal(everything.code, 1);
  const reports = JSON.parse(everything.stdout) as DoctorReport[];
  assert.equal(reports.length, cases.filter((c) => c.kind !== "port").length);
  assert.deepEqual(
    reports
      .filter((r) => !r.ok)
      .map((r) => r.target.replace("faults/", ""))
      .sort(),
    cases
      .filter((c) => !c.fixable)
      .map((c) => c.name)
      .sort(),
  );

  const right = results.filter((r) => r.got === r.expected).length;
  const fixable = cases.filter((c) => c.fixable).length;
  const fixed = results.filter((r) => r.fixed).length;
  t.diagnostic(
    `fault corpus: ${right}/${cases.length} diagnosed right; ${fixed}/${fixable} fixable cases deploy after their fix; ` +
      `median time from failure to diagnosis ${median(results.map((r) => r.waitedMs))} ms (doctor itself: median ${median(results.map((r) => r.doctorMs)).toFixed(1)} ms)`,
  );
  for (const r of results)
    t.diagnostic(
      `  ${r.name}: ${r.got}${r.got === r.expected ? "" : ` (expected ${r.expected})`}, ${r.waitedMs} ms${r.fixMs !== undefined ? `, fixed by pier doctor --fix: serving ${(r.fixMs / 1000).toFixed(1)} s after the failure` : r.fixed ? ", fixed" : ""}`,
    );
});
