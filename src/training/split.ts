/** Stratified splits: each part keeps the class balance of the whole. */
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

/** Splits all rows into train and test, `testFraction` of each class going to test. */
export function stratifiedTrainTestSplit(
  y: Uint8Array,
  testFraction: number,
  random: Random,
): { train: Int32Array; test: Int32Array } {
  const all = Int32Array.from({ length: y.length }, (_, i) => i);
  const train: number[] = [];
  const test: number[] = [];
  for (const list of shuffledByClass(y, all, random)) {
    const testCount = Math.round(list.length * testFraction);
    test.push(...list.slice(0, testCount));
    train.push(...list.slice(testCount));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: Int32Array.from(train.sort(ascending)), test: Int32Array.from(test.sort(ascending)) };
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
