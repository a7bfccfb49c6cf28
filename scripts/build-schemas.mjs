// Writes KServe's v1beta1 InferenceService schema and its runtimes as JSON beside the compiled
// dist/src/export/kserve-data.js, which reads them there: milliseconds, where parsing the CRD's 2 MB
// of YAML takes over a second, so `pier export kserve --check` starts at once.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const module = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "export", "kserve-data.js");
const { writeBuilt } = await import(pathToFileURL(module).href);
console.log(`kserve schema: v1beta1 InferenceService, ${writeBuilt()} runtimes`);
