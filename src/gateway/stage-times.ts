/**
 * Where one request's time goes inside pier up, stage by stage, for a client that asks with
 * `x-pier-timing: 1`: its answer carries a standard Server-Timing header (`admit;dur=0.031,
 * prepare;dur=…`, milliseconds), which browsers' developer tools and `npm run bench` read. A request
 * that does not ask costs nothing (no clock is read for it).
 */
export const TIMING_HEADER = "x-pier-timing";

export class StageTimes {
  readonly #started = performance.now();
  #last = this.#started;
  readonly #stages: [string, number][] = [];

  /** Ends stage `name` now (or at `at`, a performance.now() reading within it). */
  mark(name: string, at = performance.now()): void {
    this.#stages.push([name, at - this.#last]);
    this.#last = at;
  }

  /** The Server-Timing value: each stage, then the total so far. */
  header(): string {
    const total = performance.now() - this.#started;
    return [...this.#stages, ["total", total] as [string, number]]
      .map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`)
      .join(", ");
  }
}
