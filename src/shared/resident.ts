import { readFileSync } from "node:fs";

/** A process's resident set size from /proc (bytes), or 0 when it is gone (or there is no /proc). */
export function residentBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
