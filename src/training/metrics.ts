/** Binary classification metrics; the positive class is 1. */

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1_score: number;
  roc_auc: number;
}

/** ROC AUC by the rank-sum (Mann-Whitney) formula, ties sharing their average rank. */
export function rocAuc(y: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function classificationMetrics(
  y: ArrayLike<number>,
  predicted: ArrayLike<number>,
  scores: ArrayLike<number>,
): ClassificationMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    if (predicted[i] === y[i]) correct++;
    if (predicted[i] === 1 && y[i] === 1) tp++;
    else if (predicted[i] === 1) fp++;
    else if (y[i] === 1) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    accuracy: correct / y.length,
    precision,
    recall,
    f1_score: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    roc_auc: rocAuc(y, scores),
  };
}
