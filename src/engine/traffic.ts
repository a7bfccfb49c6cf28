/** Azure's traffic rules: live weights sum to 0 or 100; mirror to one deployment, ≤ 50%, never also live. */
import { userError } from "../shared/index.js";

export type TrafficMap = Record<string, number>;

/** Parses "blue=90 green=10" (spaces or commas). */
export function parseTrafficArgument(text: string, flag: string): TrafficMap {
  const map: TrafficMap = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const match = /^([A-Za-z][A-Za-z0-9-]*)=(\d{1,3})$/.exec(part);
    if (!match || Number(match[2]) > 100) {
      throw userError(
        "BadArgument",
        `${flag} expects "name=percent" pairs such as "blue=90 green=10", got '${part}'`,
        `Pass e.g. ${flag} "blue=90 green=10".`,
      );
    }
    map[match[1]!] = Number(match[2]);
  }
  return map;
}

/** Weights in the same proportions adding up to exactly 100 (largest remainders get the rounding). */
function scaledTo100(traffic: TrafficMap): TrafficMap {
  const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
  const exact = Object.entries(traffic).map(([name, w]) => ({ name, share: (w * 100) / sum }));
  const scaled = exact.map((e) => ({ ...e, weight: Math.floor(e.share) }));
  let left = 100 - scaled.reduce((a, e) => a + e.weight, 0);
  for (const e of [...scaled].sort((a, b) => b.share - b.weight - (a.share - a.weight))) {
    if (left <= 0) break;
    e.weight++;
    left--;
  }
  return Object.fromEntries(scaled.map((e) => [e.name, e.weight]));
}

export function checkTraffic(
  traffic: TrafficMap,
  mirror: TrafficMap,
  deployments: readonly string[],
  endpoint: string,
): void {
  for (const name of [...Object.keys(traffic), ...Object.keys(mirror)]) {
    if (!deployments.includes(name)) {
      throw userError(
        "BadArgument",
        `Deployment '${name}' does not exist in endpoint '${endpoint}'`,
        `Create it first (pier deployment create -f …), or use one of: ${deployments.join(", ") || "(none yet)"}.`,
      );
    }
  }
  const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
  if (sum !== 0 && sum !== 100) {
    throw userError(
      "BadArgument",
      `Traffic percentages must add up to 0 or 100, but ${JSON.stringify(traffic)} adds up to ${sum}`,
      `Give weights that add up to 100, e.g. the same split scaled: pier endpoint update ${endpoint} --traffic "${Object.entries(
        scaledTo100(traffic),
      )
        .map(([name, weight]) => `${name}=${weight}`)
        .join(" ")}".`,
    );
  }
  const mirrored = Object.entries(mirror).filter(([, p]) => p > 0);
  if (mirrored.length > 1) {
    throw userError(
      "BadArgument",
      "Mirror traffic can go to one deployment only",
      'Pass a single pair, e.g. --mirror-traffic "green=10".',
    );
  }
  for (const [name, percent] of mirrored) {
    if (percent > 50)
      throw userError(
        "BadArgument",
        `Mirror traffic to '${name}' is ${percent}%; the maximum is 50%`,
        `Use --mirror-traffic "${name}=50" or less.`,
      );
    if ((traffic[name] ?? 0) > 0) {
      throw userError(
        "BadArgument",
        `Deployment '${name}' cannot receive live traffic (${traffic[name]}%) and mirror traffic (${percent}%) at once`,
        `Set its live traffic to 0 or its mirror traffic to 0 (--mirror-traffic "${name}=0").`,
      );
    }
  }
}
