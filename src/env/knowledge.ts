/**
 * Compatibility knowledge for common scientific packages, kept as data in data/python-packages.json
 * with its sources. Every answer is either known (with the rule that gave it) or "unknown".
 */
import { readFileSync } from "node:fs";
import { satisfies, valid } from "@renovatebot/pep440";
import { normalizePackageName } from "./requirements.js";

interface PackageKnowledge {
  source: string;
  requires_python: { versions: string; python: string }[];
  numpy2_from?: string;
}

interface KnowledgeFile {
  packages: Record<string, PackageKnowledge>;
  flavor_packages: Record<string, string[]>;
  flavor_version_keys: Record<string, string>;
  import_names: Record<string, string>;
}

const knowledge = JSON.parse(
  readFileSync(new URL("../../../data/python-packages.json", import.meta.url), "utf8"),
) as KnowledgeFile;

export type Known<T> = { known: true; value: T; source: string } | { known: false };

/** The Requires-Python of `name==version`, when pier knows it. */
export function requiresPython(name: string, version: string): Known<string> {
  const entry = knowledge.packages[normalizePackageName(name)];
  if (!entry || !valid(version)) return { known: false };
  const rule = entry.requires_python.find((r) => satisfies(version, r.versions));
  return rule ? { known: true, value: rule.python, source: entry.source } : { known: false };
}

/** Whether `name==version` works with numpy 2 (false = built for numpy 1), when pier knows it. */
export function supportsNumpy2(name: string, version: string): Known<boolean> {
  const entry = knowledge.packages[normalizePackageName(name)];
  if (!entry?.numpy2_from || !valid(version)) return { known: false };
  return { known: true, value: satisfies(version, `>=${entry.numpy2_from}`), source: entry.source };
}

export function isKnownPackage(name: string): boolean {
  return normalizePackageName(name) in knowledge.packages;
}

/** Packages a flavor's loader imports (e.g. sklearn → scikit-learn). */
export function flavorPackages(flavor: string): string[] {
  return knowledge.flavor_packages[flavor] ?? [];
}

/** Every ML framework package that belongs to some flavor. */
export function frameworkPackages(): Set<string> {
  return new Set(Object.values(knowledge.flavor_packages).flat());
}

/** MLmodel flavor keys that record a library version, mapped to the package (sklearn_version → scikit-learn). */
export function flavorVersionKeys(): Record<string, string> {
  return knowledge.flavor_version_keys;
}

/** True when `pythonVersion` (e.g. "3.8" or "3.11.12") can satisfy `specifier` for some patch release. */
export function pythonSatisfies(pythonVersion: string, specifier: string): boolean {
  const parts = pythonVersion.split(".");
  const candidates =
    parts.length >= 3
      ? [pythonVersion]
      : [`${parts[0]}.${parts[1] ?? 0}.0`, `${parts[0]}.${parts[1] ?? 0}.99`];
  return candidates.some((v) => satisfies(v, specifier));
}

/** The top-level module a distribution installs (scikit-learn → sklearn); by default its name with _ for -. */
export function importNameOf(distribution: string): string {
  const name = normalizePackageName(distribution);
  return knowledge.import_names[name] ?? name.replaceAll("-", "_");
}

/** The distribution that installs a top-level module, when pier knows one (sklearn → scikit-learn). */
export function distributionOf(module: string): string | undefined {
  for (const [distribution, imported] of Object.entries(knowledge.import_names))
    if (imported === module && !distribution.startsWith("_")) return distribution;
  return undefined;
}
