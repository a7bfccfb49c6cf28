/**
 * `pier az ml model …`: model assets as `az ml model` registers them: a file or a folder, its type
 * (custom_model by default, as in Azure; mlflow_model is checked as MLflow's), the stated version. A
 * pickle in the model runs code when it is loaded: the registration says so, as `pier model register` does.
 */
import { dirname, resolve } from "node:path";
import { checkSpec, modelAssetSchema, readSpecDocument } from "../../config/index.js";
import type { ModelVersion } from "../../registry/index.js";
import { userError } from "../../shared/index.js";
import { choiceOption, intOption } from "../command.js";
import { withOverrides } from "../overrides.js";
import { azModel, azRequired, defineAz } from "./az-common.js";
import { keyValues, withRegistry } from "./model-common.js";

const MODEL_TYPES = ["custom_model", "mlflow_model", "triton_model"] as const;

const NAME_VERSION = {
  name: { type: "string", short: "n", valueName: "NAME", description: "the model" },
  version: { type: "string", short: "v", valueName: "V", description: "the version (a number or a label)" },
} as const;

/** `azureml:NAME:VERSION`, or the latest: what the registry resolves. */
const refOf = (name: string, version: string | undefined, label: string | undefined) =>
  version !== undefined ? `azureml:${name}:${version}` : `models:/${name}/${label ?? "latest"}`;

const azModelCreate = defineAz({
  path: ["model", "create"],
  summary: "Register a file or folder at the stated version (-f model.yml or flags)",
  options: {
    ...NAME_VERSION,
    file: { type: "string", short: "f", valueName: "model.yml", description: "the model YAML" },
    path: { type: "string", short: "p", valueName: "PATH", description: "the model's file or folder" },
    type: {
      type: "string",
      valueName: "TYPE",
      description: "custom_model (default), mlflow_model or triton_model",
    },
    description: { type: "string", short: "d", valueName: "TEXT", description: "its description" },
    tags: {
      type: "string",
      valueName: "KEY=VALUE",
      description: "tags (several may follow)",
      multiple: true,
    },
    set: {
      type: "string",
      valueName: "PATH=VALUE",
      description: "set a property of the YAML",
      multiple: true,
    },
    datastore: { type: "string", valueName: "DS", description: "accepted; the store is this pier home" },
    "registry-name": { type: "string", valueName: "R", description: "not supported: one workspace here" },
    stage: { type: "string", valueName: "STAGE", description: "accepted as a tag (stage=…)" },
  },
  examples: [
    "pier az ml model create --name sklearn-regression --version 1 --path ./model/sklearn_regression_model.pkl",
    "pier az ml model create -n credit-mlflow -v 2 -p ./credit_model --type mlflow_model",
    "pier az ml model create -f model.yml",
  ],
  async handler(args, ctx) {
    const o = args.options;
    if (o["registry-name"] !== undefined)
      throw userError(
        "BadOptionValue",
        "--registry-name: pier has one model registry, this pier home's",
        "Leave --registry-name out.",
      );
    const file = o.file ? resolve(ctx.cwd, o.file) : undefined;
    const base = file ? readSpecDocument(file) : {};
    const document = withOverrides(base, {
      name: o.name,
      set: [
        ...(o.version !== undefined ? [`version=${JSON.stringify(o.version)}`] : []),
        ...(o.path !== undefined ? [`path=${JSON.stringify(o.path)}`] : []),
        ...(o.type !== undefined ? [`type=${o.type}`] : []),
        ...(o.description !== undefined ? [`description=${JSON.stringify(o.description)}`] : []),
        ...(o.stage !== undefined ? [`stage=${JSON.stringify(o.stage)}`] : []),
        ...(o.set ?? []),
      ],
    });
    const spec = checkSpec(modelAssetSchema, document, file ?? "command line", "model");
    const name = azRequired(spec.name, "--name/-n");
    choiceOption(spec.type, "type", MODEL_TYPES);
    // A path in a YAML file is relative to the file; on the command line, to where az runs.
    const path = resolve(file ? dirname(file) : ctx.cwd, spec.path);
    const tags = {
      ...Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)])),
      ...keyValues(o.tags, "tags"),
      ...(spec.stage ? { stage: spec.stage } : {}),
    };
    const version = await withRegistry(ctx, (registry) =>
      registry.register(path, {
        name,
        description: spec.description ?? "",
        versionTags: tags,
        // Azure's default type is custom_model; an MLflow folder is checked as MLflow's only when it says so.
        type: spec.type ?? "custom_model",
        ...(spec.version !== undefined ? { version: spec.version } : {}),
      }),
    );
    for (const f of version.findings.filter((f) => f.severity !== "info" || f.code === "PickleExecutesCode"))
      ctx.err(`WARNING: ${f.code}: ${f.message}\n`);
    return azModel(version);
  },
});

const azModelShow = defineAz({
  path: ["model", "show"],
  summary: "Show one version (--version, or --label latest)",
  options: {
    ...NAME_VERSION,
    label: { type: "string", short: "l", valueName: "LABEL", description: "latest" },
  },
  examples: ["pier az ml model show -n sklearn-regression -v 1 --query path -o tsv"],
  async handler(args, ctx) {
    const name = azRequired(args.options.name, "--name/-n");
    const { version, label } = args.options;
    if (version === undefined && label === undefined)
      throw userError(
        "MissingArgument",
        "one of --version/-v and --label/-l is required",
        "Pass --version 1, or --label latest.",
      );
    return withRegistry(ctx, (registry) => azModel(registry.resolveUri(refOf(name, version, label))));
  },
});

const azModelList = defineAz({
  path: ["model", "list"],
  summary: "List models (their latest versions), or every version of one (--name)",
  options: {
    name: { type: "string", short: "n", valueName: "NAME", description: "every version of this model" },
    "max-results": { type: "string", short: "r", valueName: "N", description: "at most this many" },
    "archived-only": { type: "boolean", description: "accepted; pier archives nothing" },
    "include-archived": { type: "boolean", description: "accepted; pier archives nothing" },
  },
  async handler(args, ctx) {
    const max = intOption(args.options["max-results"], "max-results", { min: 1 }) ?? Number.POSITIVE_INFINITY;
    if (args.options["archived-only"]) return [];
    const name = args.options.name;
    return withRegistry(ctx, (registry) => {
      const versions: ModelVersion[] =
        name !== undefined
          ? registry
              .getModel(name)
              .versions.map((v) => registry.getVersion(name, v))
              .reverse()
          : registry
              .listModels()
              .filter((m) => m.latestVersion !== null)
              .map((m) => registry.getVersion(m.name, m.latestVersion!));
      return versions.slice(0, max).map(azModel);
    });
  },
});

const azModelDownload = defineAz({
  path: ["model", "download"],
  summary: "Write a version's files, each checked against its sha256",
  options: {
    ...NAME_VERSION,
    "download-path": {
      type: "string",
      short: "p",
      valueName: "DIR",
      description: "where to write <name>/ (default: here)",
    },
  },
  async handler(args, ctx) {
    const name = azRequired(args.options.name, "--name/-n");
    const version = azRequired(args.options.version, "--version/-v");
    const target = resolve(ctx.cwd, args.options["download-path"] ?? ".", name);
    withRegistry(ctx, (registry) =>
      registry.download(registry.resolveUri(refOf(name, version, undefined)), target),
    );
    ctx.err(`Downloaded ${name}:${version} to ${target}\n`);
    return undefined;
  },
});

export const AZ_MODEL_COMMANDS = [azModelCreate, azModelShow, azModelList, azModelDownload];
