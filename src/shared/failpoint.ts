/**
 * Failpoints let tests crash pier at a named step, the way a power cut or `kill -9` would, to prove
 * that no half-written state survives. Set PIER_FAILPOINT=<name>; production never sets it.
 */
export function failpoint(name: string): void {
  if (process.env.PIER_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}
