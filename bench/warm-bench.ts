/**
 * Python instances started cold (PIER_WARM=0: an interpreter that imports numpy and scikit-learn
 * from scratch) next to instances forked from the warm interpreter, in the same pier up: deploy →
 * Ready of each, and the memory each further instance adds (PSS: shared pages counted once, shared
 * out between the processes that map them). A forked instance is counted with its shim.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

type Api = (method: string, path: string, body?: unknown) => Promise<string>;

/** RSS and PSS of a process, in MiB, as the kernel counts them. */
export function memoryOf(pid: number): { rss: number; pss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
  return { rss: kib("Rss") / 1024, pss: kib("Pss") / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The processes of `parent` whose command line holds `name`. */
function childrenNamed(parent: number, name: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, "utf8"))?.[1]);
        return ppid === parent && readFileSync(`/proc/${d}/cmdline`, "utf8").includes(name);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function parentCommand(pid: number): string {
  try {
    const ppid = /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return readFileSync(`/proc/${ppid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

export async function warmBench(
  api: Api,
  home: string,
  pierPid: number,
  modelDir: string,
  python: string,
  endpoint: string,
): Promise<string[]> {
  const COUNT = 4;
  const deploy = async (name: string, env: Record<string, string>) => {
    const began = performance.now();
    const text = await api("POST", "/deployments", {
      spec: {
        name,
        endpoint_name: endpoint,
        model: modelDir,
        instance_type: "Standard_F4s_v2",
        instance_count: 1,
        environment_variables: { PIER_PYTHON: python, ...env },
      },
      source: "bench",
      mode: "create",
    });
    if (!text.includes('"provisioning_state":"Succeeded"')) throw new Error(text);
    // Progress streams as NDJSON; the last line holds the result.
    const view = (JSON.parse(text.trim().split("\n").at(-1)!) as { result: { instances: { pid: number }[] } })
      .result;
    return { ms: performance.now() - began, pid: view.instances[0]!.pid };
  };
  const cold: { ms: number; pid: number }[] = [];
  for (let i = 0; i < COUNT; i++) cold.push(await deploy(`cold${i}`, { PIER_WARM: "0" }));
  // The first deployments of this Python started its warm interpreter: wait until it says ready.
  const run = join(home, "run");
  const readyAt = performance.now() + 60_000;
  const ready = () =>
    existsSync(run) &&
    readdirSync(run).some(
      (f) => f.endsWith(".log") && readFileSync(join(run, f), "utf8").startsWith("ready"),
    );
  while (!ready() && performance.now() < readyAt) await new Promise((r) => setTimeout(r, 100));
  const warm: { ms: number; pid: number }[] = [];
  for (let i = 0; i < COUNT; i++) warm.push(await deploy(`warm${i}`, {}));

  const coldPss = cold.slice(1).map((d) => memoryOf(d.pid).pss);
  const shims = childrenNamed(pierPid, "pier_shim.py").map((pid) => memoryOf(pid).pss);
  const warmPss = warm.slice(1).map((d) => memoryOf(d.pid).pss);
  const interpreters = childrenNamed(pierPid, "pier_warm.py").map(memoryOf);
  const forked = warm.filter((d) => parentCommand(d.pid).includes("pier_warm.py")).length;
  for (const name of [...cold, ...warm].map((_, i) => (i < COUNT ? `cold${i}` : `warm${i - COUNT}`)))
    await api("DELETE", `/endpoints/${endpoint}/deployments/${name}`);
  const shim = mean(shims);
  return [
    `  deploy → Ready, cold (PIER_WARM=0): median ${median(cold.map((d) => d.ms)).toFixed(0)} ms over ${COUNT}`,
    `  deploy → Ready, forked from the warm interpreter: median ${median(warm.map((d) => d.ms)).toFixed(0)} ms over ${COUNT} (${forked} forked; goal < 150 ms); ratio ${(median(warm.map((d) => d.ms)) / median(cold.map((d) => d.ms))).toFixed(2)}`,
    `  PSS of each further instance: cold ${mean(coldPss).toFixed(0)} MiB; forked ${mean(warmPss).toFixed(0)} MiB + its shim ${shim.toFixed(0)} MiB = ${(mean(warmPss) + shim).toFixed(0)} MiB (goal ≤ 30 MiB)`,
    `  the warm interpreter itself: ${interpreters.map((m) => `RSS ${m.rss.toFixed(0)} MiB, PSS ${m.pss.toFixed(0)} MiB`).join("; ") || "not running"}`,
  ];
}
