/** Splits: stratified folds for cross-validation (each keeps the class balance), and the held-out rows by content. */
import type { Random } from "../shared/index.js";

function shuffledByClass(y: Uint8Array, rows: ArrayLike<number>, random: Random): number[][] {
  const byClass: number[][] = [[], []];
  for (let i = 0; i < rows.length; i++) byClass[y[rows[i]!]!]!.push(rows[i]!);
  for (const list of byClass) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  return byClass;
}

/** K stratified folds over `rows`: each fold's validation rows, the rest for fitting. */
export function stratifiedFolds(
  y: Uint8Array,
  rows: ArrayLike<number>,
  k: number,
  random: Random,
): { fit: Int32Array; validate: Int32Array }[] {
  const assignment = new Map<number, number>();
  for (const list of shuffledByClass(y, rows, random)) {
    list.forEach((row, i) => {
      assignment.set(row, i % k);
    });
  }
  return Array.from({ length: k }, (_, fold) => {
    const fit: number[] = [];
    const validate: number[] = [];
    for (let i = 0; i < rows.length; i++) (assignment.get(rows[i]!) === fold ? validate : fit).push(rows[i]!);
    return { fit: Int32Array.from(fit), validate: Int32Array.from(validate) };
  });
}

/** FNV-1a (32 bits) of a string: a row's place, stable across runs, machines and versions of pier. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Where a row falls in [0, 1), from the content of `columns` alone (not its position, not a seed):
 * the same row gets the same place in every file and every run. A row is held out by a run with
 * test_fraction f when its place is below f, so two runs with fractions f1 and f2 both held out every
 * row below min(f1, f2), and identical rows are never split between training and test.
 */
export function contentPlaces(
  numbers: ReadonlyMap<string, ArrayLike<number>>,
  strings: ReadonlyMap<string, readonly (string | null)[]>,
  columns: readonly string[],
  rowCount: number,
): Float64Array {
  const places = new Float64Array(rowCount);
  for (let row = 0; row < rowCount; row++) {
    const cells = columns.map((c) => {
      const n = numbers.get(c);
      if (n) return Number.isNaN(n[row]!) ? "" : String(n[row]);
      return strings.get(c)?.[row] ?? "";
    });
    places[row] = fnv1a(cells.join("\u001f")) / 2 ** 32;
  }
  return places;
}

/** Train and test rows by their content places: test is every row placed below `testFraction`. */
export function contentTrainTestSplit(
  places: ArrayLike<number>,
  testFraction: number,
): { train: Int32Array; test: Int32Array } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < places.length; i++) (places[i]! < testFraction ? test : train).push(i);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
