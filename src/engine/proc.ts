/**
 * What /proc says about an instance's process tree: resident memory (against its limit), CPU time
 * (busy or stuck), and state (stopped, sleeping…). Each reads 0 or "unknown" when the process is gone.
 */
import { readdirSync, readFileSync } from "node:fs";
import { residentBytes } from "../shared/index.js";

/** Direct children of a process, from the children file of each of its tasks in /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Resident memory of a process and all its descendants: an instance's workers count against its limit. */
export function treeResidentBytes(pid: number): number {
  return residentBytes(pid) + childrenOf(pid).reduce((sum, child) => sum + treeResidentBytes(child), 0);
}

/** A process's state as /proc says it: running, sleeping, stopped (SIGSTOP), zombie…; "unknown" without /proc. */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const code = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    const names: Record<string, string> = {
      R: "running",
      S: "sleeping",
      D: "in uninterruptible wait",
      T: "stopped",
      t: "stopped by a tracer",
      Z: "zombie",
    };
    return names[code] ?? code;
  } catch {
    return "unknown";
  }
}

/** User + system CPU time of a process (clock ticks), fields 14 and 15 of /proc/<pid>/stat. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU time of a process and all its descendants (clock ticks, usually 1/100 s). */
export function treeCpuTicks(pid: number): number {
  return cpuTicks(pid) + childrenOf(pid).reduce((sum, child) => sum + treeCpuTicks(child), 0);
}
