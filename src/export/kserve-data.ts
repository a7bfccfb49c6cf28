/**
 * KServe's vendored definitions (data/kserve, Apache-2.0): the v1beta1 InferenceService schema of its
 * CRD and the ClusterServingRuntimes it installs. Parsing the CRD's 2 MB of YAML takes over a second,
 * so the build writes both as JSON beside this module (scripts/build-schemas.mjs calls writeBuilt),
 * and `built` reads that JSON, or the YAML in a build that skipped the step.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import type { StructuralSchema } from "./structural.js";

const DATA = new URL("../../../data/kserve/", import.meta.url);

/** One entry of a runtime's supportedModelFormats. */
export interface SupportedFormat {
  name: string;
  version?: string;
  autoSelect: boolean;
  priority?: number;
}

export interface Runtime {
  name: string;
  supported: SupportedFormat[];
  /** protocolVersions; KServe's default, v1, when the runtime lists none. */
  protocols: string[];
}

/** The JSON files the build writes, by what they hold. */
const BUILT_FILES = { schema: "inferenceservice.schema.json", runtimes: "kserve-runtimes.json" } as const;

/** The CRD's openAPIV3Schema for v1beta1, from the YAML. */
function schemaFromYaml(): StructuralSchema {
  const crd = parse(readFileSync(new URL("serving.kserve.io_inferenceservices.yaml", DATA), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: StructuralSchema } }[] };
  };
  return crd.spec.versions.find((v) => v.name === "v1beta1")!.schema.openAPIV3Schema;
}

/** Each runtime's name, model formats and protocols, from the YAML. */
function runtimesFromYaml(): Runtime[] {
  return readdirSync(DATA)
    .filter((f) => /^kserve-.*\.yaml$/.test(f))
    .map((f) => {
      const doc = parse(readFileSync(new URL(f, DATA), "utf8")) as {
        metadata: { name: string };
        spec: {
          supportedModelFormats?: {
            name: string;
            version?: string;
            autoSelect?: boolean;
            priority?: number;
          }[];
          protocolVersions?: string[];
        };
      };
      const supported = (doc.spec.supportedModelFormats ?? []).map((m) => ({
        name: m.name,
        ...(m.version !== undefined ? { version: String(m.version) } : {}),
        autoSelect: m.autoSelect === true,
        ...(m.priority !== undefined ? { priority: m.priority } : {}),
      }));
      return {
        name: doc.metadata.name,
        supported,
        protocols: doc.spec.protocolVersions ?? ["v1"],
      };
    });
}

/** What the build wrote in `what`'s JSON file, else the same read from the YAML. */
export function built<K extends keyof typeof BUILT_FILES>(
  what: K,
): K extends "schema" ? StructuralSchema : Runtime[] {
  try {
    return JSON.parse(readFileSync(new URL(`./${BUILT_FILES[what]}`, import.meta.url), "utf8"));
  } catch {
    return (what === "schema" ? schemaFromYaml() : runtimesFromYaml()) as never;
  }
}

/** Writes the JSON files beside this module (the build's step); returns how many runtimes there are. */
export function writeBuilt(): number {
  const runtimes = runtimesFromYaml();
  writeFileSync(new URL(`./${BUILT_FILES.schema}`, import.meta.url), JSON.stringify(schemaFromYaml()));
  writeFileSync(new URL(`./${BUILT_FILES.runtimes}`, import.meta.url), JSON.stringify(runtimes));
  return runtimes.length;
}
