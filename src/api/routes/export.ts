/** `pier export`: Azure ML YAML or KServe manifests of an endpoint, written into a folder. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../../engine/index.js";
import { type ExportResult, type ExportSource, exportOffThread } from "../../export/index.js";
import { deliverFolder, userError, writableOutputFolder } from "../../shared/index.js";
import type { ApiDeps, Handlers } from "./handler.js";

/** What an export is made of: the endpoint, its Succeeded deployments and what pier measured of them. */
function exportSource(
  engine: Engine,
  endpoint: string,
  only: string | undefined,
): Omit<ExportSource, "materialize"> {
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
  };
}

export function exportRoutes({ engine }: ApiDeps): Handlers<"export.write"> {
  return {
    // Written on the export thread into pier's home, then moved to --out off the event loop: a large
    // model or a user's folder (a slow disk, a path into /proc) can cost this answer, never the
    // scoring requests beside it.
    "export.write": async ({ params, body }) => {
      const out = writableOutputFolder(body.out);
      const source = exportSource(engine, params.endpoint, body.deployment);
      const storageUri = body.storageUri ?? "";
      if (body.target === "kserve" && !/^(s3|gs|pvc|oci|hf|https?|file):\/\//.test(storageUri))
        throw userError(
          "BadArgument",
          `--storage-uri '${storageUri}' is not a storage URI KServe reads`,
          "Use s3://, gs://, pvc://, https://, oci://, hf:// or file://, e.g. --storage-uri s3://models/fin-behavior",
        );
      mkdirSync(join(engine.home, "tmp"), { recursive: true, mode: 0o700 });
      const staging = mkdtempSync(join(engine.home, "tmp", "export-"));
      let result: ExportResult;
      try {
        result = await exportOffThread({
          target: body.target === "azureml" ? "azureml" : "kserve",
          source,
          artifacts: engine.registry.store.root,
          dir: staging,
          storageUri,
        });
      } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        throw error;
      }
      await deliverFolder(staging, out);
      // What the export says of its files names them where the user has them.
      return JSON.parse(
        JSON.stringify({ ...result, dir: out }).replaceAll(
          JSON.stringify(staging).slice(1, -1),
          JSON.stringify(out).slice(1, -1),
        ),
      ) as ExportResult;
    },
  };
}
