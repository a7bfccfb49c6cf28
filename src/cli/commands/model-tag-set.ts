import { userError } from "../../shared/index.js";
import { defineCommand } from "../command.js";
import { positional, versionNumber, versionOption, withRegistry } from "./model-common.js";

export const modelTagSet = defineCommand({
  path: ["model", "tag", "set"],
  summary: "Set a tag on a registered model, or on one version with --version",
  positionals: [
    { name: "NAME", description: "registered model name", required: true },
    { name: "KEY=VALUE", description: "the tag", required: true },
  ],
  options: versionOption,
  examples: [
    "pier model tag set financial-behavior-model team=risk",
    "pier model tag set financial-behavior-model validated=true --version 2",
  ],
  async handler(args, ctx) {
    const name = positional(args, 0, "NAME", "pier model tag set NAME key=value");
    const pair = positional(args, 1, "KEY=VALUE", "pier model tag set NAME key=value");
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw userError("BadOptionValue", `Expected KEY=VALUE, got '${pair}'`, "Pass e.g. team=risk.");
    const version = args.options.version;
    const v = version === undefined ? undefined : versionNumber(version);
    withRegistry(ctx, (registry) => registry.setTag(name, pair.slice(0, eq), pair.slice(eq + 1), v));
    return { name, version: v ?? null, key: pair.slice(0, eq), value: pair.slice(eq + 1) };
  },
  render(r, ctx) {
    ctx.out(`✔ ${r.version === null ? r.name : `models:/${r.name}/${r.version}`}: ${r.key}=${r.value}`);
  },
});
