/**
 * `pier az ml online-endpoint …`: Azure's CLI forms over pier's endpoints, with az's flags and az's
 * output, so a script written for Azure runs with `alias az='pier az'`.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEndpointSpec, readSpecDocument } from "../../config/index.js";
import { PierError, userError } from "../../shared/index.js";
import { withOverrides } from "../overrides.js";
import { connect } from "./api-common.js";
import { azEndpoint, azRequired, confirmed, defineAz, LOCAL_OPTION, NO_WAIT_OPTION } from "./az-common.js";

const NAME = {
  name: { type: "string", short: "n", valueName: "NAME", description: "the endpoint" },
} as const;
const SET = {
  set: {
    type: "string",
    valueName: "PATH=VALUE",
    description: "set a property of the YAML (several may follow)",
    multiple: true,
  },
} as const;

const azEndpointCreate = defineAz({
  path: ["online-endpoint", "create"],
  summary: "Create an endpoint from its YAML (-f), with the flags over it",
  options: {
    ...NAME,
    file: { type: "string", short: "f", valueName: "endpoint.yml", description: "the endpoint YAML" },
    "auth-mode": {
      type: "string",
      valueName: "key|aml_token",
      description: "overrides the file's auth_mode",
    },
    ...SET,
    ...LOCAL_OPTION,
    ...NO_WAIT_OPTION,
    web: { type: "boolean", description: "accepted; there is no studio to open" },
  },
  examples: ["pier az ml online-endpoint create -n $ENDPOINT_NAME -f endpoint.yml"],
  async handler(args, ctx) {
    const file = args.options.file;
    const source = file ? resolve(ctx.cwd, file) : "command line";
    const document = withOverrides(file ? readSpecDocument(source) : { auth_mode: "key" }, {
      name: args.options.name,
      set: [
        ...(args.options["auth-mode"] !== undefined ? [`auth_mode=${args.options["auth-mode"]}`] : []),
        ...(args.options.set ?? []),
      ],
    });
    if (document.name === undefined) azRequired(undefined, "--name/-n");
    const loaded = parseEndpointSpec(document, source);
    for (const w of loaded.warnings) ctx.err(`WARNING: ${w}\n`);
    return azEndpoint(
      await connect(ctx).call("endpoints.create", { body: { spec: loaded.document, source } }),
    );
  },
});

const azEndpointUpdate = defineAz({
  path: ["online-endpoint", "update"],
  summary: "Update an endpoint: traffic, mirror traffic, or its YAML (-f, --set)",
  options: {
    ...NAME,
    file: { type: "string", short: "f", valueName: "endpoint.yml", description: "the endpoint YAML" },
    traffic: {
      type: "string",
      short: "r",
      valueName: '"blue=90 green=10"',
      description: "the live traffic split",
    },
    "mirror-traffic": { type: "string", valueName: '"green=10"', description: "the mirrored share" },
    ...SET,
    ...LOCAL_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: [
    'pier az ml online-endpoint update -n $ENDPOINT_NAME --traffic "blue=90 green=10"',
    'pier az ml online-endpoint update -n $ENDPOINT_NAME --mirror-traffic "green=10"',
  ],
  async handler(args, ctx) {
    const api = connect(ctx);
    /** The endpoint's YAML keys as pier keeps them, for --set without -f. */
    const keptSpec = async (endpoint: string) => {
      const e = await api.call("endpoints.show", { endpoint });
      return {
        name: e.name,
        auth_mode: e.auth_mode,
        ...(e.description !== undefined ? { description: e.description } : {}),
        ...(e.tags !== undefined ? { tags: e.tags } : {}),
      };
    };
    const file = args.options.file;
    const source = file ? resolve(ctx.cwd, file) : undefined;
    let name = args.options.name;
    let spec: Record<string, unknown> | undefined;
    if (source || args.options.set?.length) {
      const base = source ? readSpecDocument(source) : await keptSpec(azRequired(name, "--name/-n"));
      spec = withOverrides(base, { name, set: args.options.set });
      name = String(spec.name ?? "");
      const loaded = parseEndpointSpec(spec, source ?? "command line");
      for (const w of loaded.warnings) ctx.err(`WARNING: ${w}\n`);
      spec = loaded.document as Record<string, unknown>;
    }
    const endpoint = azRequired(name, "--name/-n");
    return azEndpoint(
      await api.call("endpoints.update", {
        endpoint,
        body: {
          ...(spec ? { spec, source: source ?? "command line" } : {}),
          ...(args.options.traffic !== undefined ? { traffic: args.options.traffic } : {}),
          ...(args.options["mirror-traffic"] !== undefined
            ? { mirror_traffic: args.options["mirror-traffic"] }
            : {}),
        },
      }),
    );
  },
});

const azEndpointShow = defineAz({
  path: ["online-endpoint", "show"],
  summary: "Show an endpoint: provisioning_state, scoring_uri, traffic, …",
  options: { ...NAME, ...LOCAL_OPTION, web: { type: "boolean", description: "accepted" } },
  examples: ["pier az ml online-endpoint show -n $ENDPOINT_NAME --query provisioning_state -o tsv"],
  async handler(args, ctx) {
    return azEndpoint(
      await connect(ctx).call("endpoints.show", { endpoint: azRequired(args.options.name, "--name/-n") }),
    );
  },
});

const azEndpointList = defineAz({
  path: ["online-endpoint", "list"],
  summary: "List endpoints",
  options: { ...LOCAL_OPTION },
  async handler(_args, ctx) {
    return (await connect(ctx).call("endpoints.list", {})).map(azEndpoint);
  },
});

const azEndpointDelete = defineAz({
  path: ["online-endpoint", "delete"],
  summary: "Delete an endpoint and its deployments (asks, unless --yes)",
  options: {
    ...NAME,
    yes: { type: "boolean", short: "y", description: "do not ask for confirmation" },
    ...LOCAL_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: ["pier az ml online-endpoint delete -n $ENDPOINT_NAME --yes --no-wait"],
  async handler(args, ctx) {
    const endpoint = azRequired(args.options.name, "--name/-n");
    await confirmed(args.options.yes, `Endpoint ${endpoint} and all its deployments will be deleted.`, ctx);
    await connect(ctx).call("endpoints.delete", { endpoint });
    return undefined;
  },
});

const azEndpointInvoke = defineAz({
  path: ["online-endpoint", "invoke"],
  summary: "Send a request file to /score (or to one deployment)",
  options: {
    ...NAME,
    "request-file": { type: "string", short: "r", valueName: "FILE", description: "the request body" },
    "deployment-name": {
      type: "string",
      short: "d",
      valueName: "NAME",
      description: "send to this deployment, whatever its traffic",
    },
    ...LOCAL_OPTION,
  },
  examples: [
    "pier az ml online-endpoint invoke -n $ENDPOINT_NAME --request-file sample-request.json",
    "pier az ml online-endpoint invoke -n $ENDPOINT_NAME -d green -r sample-request.json",
  ],
  async handler(args, ctx) {
    const endpoint = azRequired(args.options.name, "--name/-n");
    const file = resolve(ctx.cwd, azRequired(args.options["request-file"], "--request-file/-r"));
    let body: string;
    try {
      body = readFileSync(file, "utf8");
    } catch {
      throw userError(
        "FileNotFound",
        `Cannot read ${file}`,
        "Pass an existing JSON file with --request-file.",
      );
    }
    const deployment = args.options["deployment-name"];
    const answer = await connect(ctx).score({ endpoint, body, ...(deployment ? { deployment } : {}) });
    if (answer.status !== 200)
      throw new PierError({
        code: "InvokeFailed",
        summary: `(${answer.status}) ${answer.text.slice(0, 2000)}`,
        details: answer.deployment ? `served by deployment ${answer.deployment}` : undefined,
        fix: `Read the deployment's log: pier az ml online-deployment get-logs -e ${endpoint} -n ${answer.deployment ?? "<deployment>"}`,
      });
    // az prints the response body as a string (JSON-quoted by default, as it is with -o tsv).
    return answer.text;
  },
});

const azEndpointGetCredentials = defineAz({
  path: ["online-endpoint", "get-credentials"],
  summary: "Print the keys (primaryKey, secondaryKey) or an accessToken",
  options: { ...NAME },
  examples: ["pier az ml online-endpoint get-credentials -n $ENDPOINT_NAME -o tsv --query primaryKey"],
  async handler(args, ctx) {
    return connect(ctx).call("endpoints.credentials", {
      endpoint: azRequired(args.options.name, "--name/-n"),
    });
  },
});

const azEndpointRegenerateKeys = defineAz({
  path: ["online-endpoint", "regenerate-keys"],
  summary: "Replace the primary or the secondary key",
  options: {
    ...NAME,
    "key-type": {
      type: "string",
      valueName: "primary|secondary",
      description: "which key (default primary)",
    },
    "key-value": { type: "string", valueName: "KEY", description: "not supported: pier generates keys" },
    ...NO_WAIT_OPTION,
  },
  async handler(args, ctx) {
    const keyType = args.options["key-type"] ?? "primary";
    if (keyType !== "primary" && keyType !== "secondary")
      throw userError(
        "BadOptionValue",
        `argument --key-type: invalid choice: '${keyType}' (choose from 'primary', 'secondary')`,
        "Pass --key-type primary or --key-type secondary.",
      );
    if (args.options["key-value"] !== undefined)
      throw userError(
        "BadOptionValue",
        "--key-value is not supported: pier makes each key from its own random source",
        "Leave --key-value out; read the new key with get-credentials.",
      );
    await connect(ctx).call("endpoints.regenerateKeys", {
      endpoint: azRequired(args.options.name, "--name/-n"),
      body: { keyType },
    });
    return undefined;
  },
});

export const AZ_ENDPOINT_COMMANDS = [
  azEndpointCreate,
  azEndpointUpdate,
  azEndpointShow,
  azEndpointList,
  azEndpointDelete,
  azEndpointInvoke,
  azEndpointGetCredentials,
  azEndpointRegenerateKeys,
];
