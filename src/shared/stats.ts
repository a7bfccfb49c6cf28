/** Small helpers on numbers and text that several subsystems share. */

/** The nearest-rank percentile of already sorted values: the value at floor(p × n); undefined when empty. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : undefined;
}

/** Text made safe for HTML, in elements and in quoted attributes. */
export const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
