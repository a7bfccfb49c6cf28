/** `pier export`: Azure ML YAML or KServe manifests of an endpoint, written into a folder. */
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { Engine } from "../../engine/index.js";
import { type ExportSource, exportAzureMl, exportKserve } from "../../export/index.js";
import { userError } from "../../shared/index.js";
import type { ApiDeps, Handlers } from "./handler.js";

/** What an export is made of: the endpoint, its Succeeded deployments and what pier measured of them. */
function exportSource(engine: Engine, endpoint: string, only: string | undefined): ExportSource {
  const record = engine.endpoints.record(endpoint);
  const names = only ? [only] : engine.store.deployments(endpoint).map((d) => d.name);
  if (names.length === 0)
    throw userError(
      "NotExportable",
      `Endpoint '${endpoint}' has no deployment to export`,
      `Create one first: pier deployment create -f blue.yml`,
    );
  const deployments = names.map((name) => {
    engine.deployments.show(endpoint, name);
    const d = engine.store.deployment(endpoint, name)!;
    if (d.provisioningState !== "Succeeded")
      throw userError(
        "NotExportable",
        `Deployment ${endpoint}/${name} is ${d.provisioningState}: pier exports what it has run, and this has not`,
        `Make it Succeed here first (pier doctor -e ${endpoint} -n ${name}), or export the others with -n NAME.`,
      );
    return {
      name,
      spec: d.spec,
      model: engine.registry.getVersion(d.modelName, d.modelVersion),
      code: d.code
        ? { files: d.code.artifacts, scoringScript: d.code.scoringScript, conda: d.code.conda }
        : null,
      evidence: engine.deployments.evidence(endpoint, name),
    };
  });
  return {
    endpoint: {
      name: record.name,
      spec: record.spec,
      traffic: record.traffic,
      mirrorTraffic: record.mirrorTraffic,
    },
    deployments,
    materialize: (files, dir) => engine.registry.store.materialize(files, dir),
  };
}

export function exportRoutes({ engine }: ApiDeps): Handlers<"export.write"> {
  return {
    "export.write": ({ params, body }) => {
      const { out } = body;
      if (!isAbsolute(out))
        throw userError("BadArgument", "The export needs an absolute --out folder", "Pass --out DIR.");
      if (existsSync(out) && readdirSync(out).length > 0)
        throw userError(
          "OutputExists",
          `${out} already exists and is not empty`,
          "Choose another --out folder, or empty this one.",
        );
      const source = exportSource(engine, params.endpoint, body.deployment);
      if (body.target === "azureml") return exportAzureMl(source, out);
      const storageUri = body.storageUri ?? "";
      if (!/^(s3|gs|pvc|oci|hf|https?|file):\/\//.test(storageUri))
        throw userError(
          "BadArgument",
          `--storage-uri '${storageUri}' is not a storage URI KServe reads`,
          "Use s3://, gs://, pvc://, https://, oci://, hf:// or file://, e.g. --storage-uri s3://models/fin-behavior",
        );
      return exportKserve(source, out, storageUri);
    },
  };
}
