import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { EndpointView } from "../../engine/index.js";
import { userError } from "../../shared/index.js";
import { defineCommand, required } from "../command.js";
import { connect, nameArgument, nameOption } from "./api-common.js";

export const endpointInvoke = defineCommand({
  path: ["endpoint", "invoke"],
  summary: "Send a request file to an endpoint's /score (optionally to one deployment)",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: {
    ...nameOption,
    "request-file": { type: "string", valueName: "FILE.json", description: "request body (required)" },
    "deployment-name": {
      type: "string",
      short: "d",
      valueName: "NAME",
      description: "send to this deployment, whatever its traffic",
    },
  },
  examples: [
    "pier endpoint invoke fin-behavior --request-file sample.json",
    "pier endpoint invoke fin-behavior --request-file sample.json --deployment-name green",
  ],
  async handler(args, ctx) {
    const name = nameArgument(
      args,
      "endpoint",
      "pier endpoint invoke fin-behavior --request-file sample.json",
    );
    const file = resolve(
      ctx.cwd,
      required(args.options["request-file"], "--request-file", "--request-file sample.json"),
    );
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
    const api = connect(ctx);
    const endpoint = await api.request<EndpointView>("GET", `/endpoints/${encodeURIComponent(name)}`);
    const credentials = await api.request<Record<string, string>>(
      "POST",
      `/endpoints/${encodeURIComponent(name)}/credentials`,
    );
    const deployment = args.options["deployment-name"];
    const response = await fetch(endpoint.scoring_uri, {
      method: "POST",
      headers: {
        authorization: `Bearer ${credentials.primaryKey ?? credentials.accessToken}`,
        "content-type": "application/json",
        ...(deployment ? { "azureml-model-deployment": deployment } : {}),
      },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return {
      status: response.status,
      deployment: response.headers.get("azureml-model-deployment"),
      body: parsed,
    };
  },
  render(result, ctx) {
    ctx.out(typeof result.body === "string" ? result.body : JSON.stringify(result.body));
    if (result.status !== 200)
      ctx.err(`✘ HTTP ${result.status}${result.deployment ? ` from deployment ${result.deployment}` : ""}\n`);
  },
  exitCode: (result) => (result.status === 200 ? 0 : 1),
});
