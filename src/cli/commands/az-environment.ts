/**
 * `pier az ml environment …`: environment assets as `az ml environment create` registers them, kept
 * with their conda file (and the files it includes), so a deployment naming `azureml:NAME:VERSION`
 * later builds exactly that environment. An image is recorded, not pulled: pier runs no containers.
 */
import { dirname, resolve } from "node:path";
import { checkSpec, environmentAssetSchema, readSpecDocument } from "../../config/index.js";
import { readCondaFile } from "../../env/index.js";
import { Registry } from "../../registry/index.js";
import { userError } from "../../shared/index.js";
import { pierHome } from "../command.js";
import { withOverrides } from "../overrides.js";
import { azEnvironment, azRequired, defineAz } from "./az-common.js";
import { keyValues } from "./model-common.js";

const NAME_VERSION = {
  name: { type: "string", short: "n", valueName: "NAME", description: "the environment" },
  version: { type: "string", short: "v", valueName: "V", description: "its version" },
} as const;

/** Opens the registry (environment assets live beside models), runs `fn`, closes it. */
function withEnvironments<T>(home: string, fn: (environments: Registry["environments"]) => T): T {
  const registry = Registry.open(home);
  try {
    return fn(registry.environments);
  } finally {
    registry.close();
  }
}

const azEnvironmentCreate = defineAz({
  path: ["environment", "create"],
  summary: "Register an environment: an image with a conda file, or a build context",
  options: {
    ...NAME_VERSION,
    file: { type: "string", short: "f", valueName: "env.yml", description: "the environment YAML" },
    image: { type: "string", short: "i", valueName: "IMAGE", description: "the base image" },
    "conda-file": { type: "string", short: "c", valueName: "conda.yml", description: "its conda file" },
    "build-context": {
      type: "string",
      short: "b",
      valueName: "DIR",
      description: "a Docker build context (pier cannot build it)",
    },
    "dockerfile-path": { type: "string", valueName: "PATH", description: "the Dockerfile in the context" },
    description: { type: "string", valueName: "TEXT", description: "its description" },
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
    "os-type": { type: "string", valueName: "linux|windows", description: "linux (pier runs nothing else)" },
    datastore: { type: "string", valueName: "DS", description: "accepted; the store is this pier home" },
  },
  examples: [
    "pier az ml environment create -f environment.yml",
    "pier az ml environment create -n sklearn-env -v 1 --image mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04 --conda-file conda.yml",
  ],
  async handler(args, ctx) {
    const o = args.options;
    const file = o.file ? resolve(ctx.cwd, o.file) : undefined;
    const quoted = (key: string, value: string | undefined) =>
      value === undefined ? [] : [`${key}=${JSON.stringify(value)}`];
    const document = withOverrides(file ? readSpecDocument(file) : {}, {
      name: o.name,
      set: [
        ...quoted("version", o.version),
        ...quoted("image", o.image),
        ...quoted("conda_file", o["conda-file"]),
        ...quoted("build.path", o["build-context"]),
        ...quoted("build.dockerfile_path", o["dockerfile-path"]),
        ...quoted("description", o.description),
        ...quoted("os_type", o["os-type"]),
        ...(o.set ?? []),
      ],
    });
    const source = file ?? "command line";
    const spec = checkSpec(environmentAssetSchema, document, source, "environment");
    const name = azRequired(spec.name, "--name/-n");
    if (spec.os_type === "windows")
      throw userError(
        "BadArgument",
        `${source}: environment ${name} is a Windows image; pier runs Linux processes only`,
        "Use a Linux image (os_type: linux), or deploy it to Azure.",
      );
    const dir = file ? dirname(file) : ctx.cwd;
    const conda = spec.conda_file ? readCondaFile(dir, spec.conda_file) : undefined;
    const tags = {
      ...Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)])),
      ...keyValues(o.tags, "tags"),
    };
    const asset = withEnvironments(pierHome(ctx), (environments) =>
      environments.create({
        name,
        version: spec.version,
        description: spec.description,
        image: spec.image,
        conda,
        build: spec.build
          ? { path: resolve(dir, spec.build.path), dockerfile_path: spec.build.dockerfile_path }
          : undefined,
        tags,
        source,
      }),
    );
    if (asset.build)
      ctx.err(
        `WARNING: environment ${name}:${asset.version} is a Docker build; pier cannot build images, so a deployment that uses it is refused (CustomContainerUnsupported) with what it can still run\n`,
      );
    return azEnvironment(asset);
  },
});

const azEnvironmentShow = defineAz({
  path: ["environment", "show"],
  summary: "Show one version (--version, or --label latest)",
  options: {
    ...NAME_VERSION,
    label: { type: "string", short: "l", valueName: "LABEL", description: "latest" },
  },
  async handler(args, ctx) {
    const name = azRequired(args.options.name, "--name/-n");
    const version = args.options.version ?? (args.options.label === "latest" ? "latest" : undefined);
    if (version === undefined)
      throw userError(
        "MissingArgument",
        "one of --version/-v and --label/-l latest is required",
        "Pass --version 1, or --label latest.",
      );
    return withEnvironments(pierHome(ctx), (environments) =>
      azEnvironment(environments.resolve({ name, version }, `azureml:${name}:${version}`)),
    );
  },
});

const azEnvironmentList = defineAz({
  path: ["environment", "list"],
  summary: "List environments (their latest versions), or every version of one (--name)",
  options: {
    name: { type: "string", short: "n", valueName: "NAME", description: "every version of this one" },
  },
  async handler(args, ctx) {
    return withEnvironments(pierHome(ctx), (environments) => {
      const all = environments.list(args.options.name);
      if (args.options.name !== undefined) return all.reverse().map(azEnvironment);
      const latest = new Map(all.map((e) => [e.name, e]));
      return [...latest.values()].map(azEnvironment);
    });
  },
});

export const AZ_ENVIRONMENT_COMMANDS = [azEnvironmentCreate, azEnvironmentShow, azEnvironmentList];
