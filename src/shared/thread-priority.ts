/**
 * Lowers the CPU priority of the calling thread alone (Linux: a thread is a task with its own nice
 * value, and setpriority on its id changes that thread only). pier's bulk work — a 4 MiB body parsed in
 * a worker, a monitoring window read, a large batch scored — runs at a higher nice value than the
 * threads that answer small requests, so the kernel gives the small ones the CPU first when both want
 * it and the bulk work all of it when they do not. Raising one's nice value needs no privilege.
 * Elsewhere (no /proc/thread-self) it does nothing.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The nice value of a large request's work: about a tenth of the CPU against a busy thread at 0. */
const BULK_NICE = 10;
/** The nice value of management work (exports, monitoring reads): what the CPU has left. */
export const BACKGROUND_NICE = 19;

/** Sets the calling thread's nice value to `nice` (only ever up); false when the system has no per-thread priority. */
export function lowerThreadPriority(nice = BULK_NICE): boolean {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
