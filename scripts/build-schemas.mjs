// Writes dist/src/export/inferenceservice.schema.json: the v1beta1 openAPIV3Schema of KServe's CRD
// (data/kserve), as JSON, and kserve-runtimes.json: each ClusterServingRuntime's name, model formats
// and protocols. Reading it takes milliseconds where parsing the CRD's 2 MB of YAML takes
// over a second, so `pier export kserve --check` starts at once (src/export/validate.ts).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const crd = parse(readFileSync(join(root, "data/kserve/serving.kserve.io_inferenceservices.yaml"), "utf8"));
const v1beta1 = crd.spec.versions.find((v) => v.name === "v1beta1");
writeFileSync(
  join(root, "dist/src/export/inferenceservice.schema.json"),
  JSON.stringify(v1beta1.schema.openAPIV3Schema),
);
const runtimes = readdirSync(join(root, "data/kserve"))
  .filter((f) => /^kserve-.*\.yaml$/.test(f))
  .map((f) => {
    const doc = parse(readFileSync(join(root, "data/kserve", f), "utf8"));
    return {
      name: doc.metadata.name,
      formats: [...new Set(doc.spec.supportedModelFormats.map((m) => m.name))],
      protocols: doc.spec.protocolVersions,
    };
  });
writeFileSync(join(root, "dist/src/export/kserve-runtimes.json"), JSON.stringify(runtimes));
console.log(`kserve schema: v1beta1 InferenceService, ${runtimes.length} runtimes`);
