/** The last `capacity` numbers pushed, kept in a ring: a push costs the same however full it is. */
export class RecentSamples {
  #values: number[] = [];
  #next = 0;

  constructor(readonly capacity: number) {}

  push(value: number): void {
    if (this.#values.length < this.capacity) this.#values.push(value);
    else this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** A copy of what is kept, in no particular order (for quantiles, counts and maxima). */
  values(): number[] {
    return [...this.#values];
  }
}
