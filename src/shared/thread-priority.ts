/**
 * Lowers the CPU priority of the calling thread alone (Linux: a thread is a task with its own nice
 * value and scheduling policy, and setpriority or sched_setscheduler on its id changes that thread
 * only). pier's bulk and management work — a 4 MiB body parsed or scored, an export, a monitoring
 * read, a training run — runs at nice 19 under the SCHED_IDLE policy: it takes the CPU the threads that
 * answer small requests leave, and the kernel preempts it the moment one of them wakes. A nice value
 * alone is not enough: the kernel lets a niced thread finish its time slice first, and on a busy
 * 2-core machine that wait cost small requests a fifth of their throughput (nice 10: 0.77–0.80 of
 * alone; SCHED_IDLE: 0.89–1.07, `npm run chaos` management). Lowering one's priority needs no
 * privilege. Elsewhere (no /proc/thread-self, no chrt) it does what it can and says so.
 */
import { execFile } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";

const LOW_NICE = 19;

/** Gives task `id` (a thread, or with `all` every thread of process `id`) the SCHED_IDLE policy; util-linux's chrt makes the system call. */
function idlePolicy(id: number, all: boolean): Promise<boolean> {
  return new Promise((resolve) =>
    execFile("chrt", [...(all ? ["-a"] : []), "-i", "-p", "0", String(id)], { timeout: 5_000 }, (error) =>
      resolve(!error),
    ),
  );
}

/** Lowers the calling thread; resolves false when the system has no per-thread priority or no SCHED_IDLE. */
export async function lowerThreadPriority(): Promise<boolean> {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, LOW_NICE);
    return await idlePolicy(tid, false);
  } catch {
    return false;
  }
}

/** Lowers every thread of process `pid` (a child pier started for management work). */
export async function lowerProcessPriority(pid: number): Promise<boolean> {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), LOW_NICE);
    return await idlePolicy(pid, true);
  } catch {
    return false;
  }
}
