/**
 * How long the CLI takes before it does anything: `pier --help`, a mistyped command, and a command's
 * own help, each the median of nine runs, beside `node -e 0` (the floor any Node CLI pays) measured
 * in the same loop.
 */
import { execFileSync } from "node:child_process";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timed(args: string[]): number {
  const started = performance.now();
  try {
    execFileSync(process.execPath, args, { stdio: "ignore" });
  } catch {
    // A mistyped command exits 2: its time is what counts.
  }
  return performance.now() - started;
}

export function cliBench(pier: string): string[] {
  const cases: [string, string[]][] = [
    ["node -e 0 (the floor)", ["-e", "0"]],
    ["pier --help", [pier, "--help"]],
    ["pier deployment create --help", [pier, "deployment", "create", "--help"]],
    ["pier modle list (a typo)", [pier, "modle", "list"]],
  ];
  const runs = new Map(cases.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < 9; i++) for (const [name, args] of cases) runs.get(name)!.push(timed(args));
  const floor = median(runs.get(cases[0]![0])!);
  return cases.map(([name]) => {
    const ms = median(runs.get(name)!);
    return `  ${name.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms  (${(ms / floor).toFixed(2)}× node -e 0)`;
  });
}

/** `pier export kserve --check` on a real export of endpoint `endpoint` (pier up running on `home`). */
export function checkBench(pier: string, home: string, endpoint: string, out: string): string[] {
  execFileSync(
    process.execPath,
    [pier, "export", "kserve", "-e", endpoint, "--storage-uri", "s3://bench", "--out", out],
    {
      env: { ...process.env, PIER_HOME: home },
      stdio: "ignore",
    },
  );
  const floor: number[] = [];
  const check: number[] = [];
  for (let i = 0; i < 5; i++) {
    floor.push(timed(["-e", "0"]));
    check.push(timed([pier, "export", "kserve", "--check", out]));
  }
  const ms = median(check);
  return [
    `  pier export kserve --check (one export)  ${ms.toFixed(0).padStart(5)} ms  (${(ms / median(floor)).toFixed(2)}× node -e 0)`,
  ];
}
