import { defineCommand, required } from "../command.js";
import { positional, withRegistry } from "./model-common.js";

export const modelDownload = defineCommand({
  path: ["model", "download"],
  summary: "Write a registered version's files to a folder, checking each sha256",
  positionals: [
    {
      name: "URI",
      description: "models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS",
      required: true,
    },
  ],
  options: {
    out: {
      type: "string",
      valueName: "DIR",
      description: "folder to write (required; must be empty or absent)",
    },
  },
  examples: ["pier model download models:/financial-behavior-model/1 --out ./downloaded"],
  async handler(args, ctx) {
    const uri = positional(args, 0, "URI", "pier model download models:/NAME/1 --out DIR");
    const out = required(args.options.out, "--out", "--out ./downloaded");
    return withRegistry(ctx, (registry) => {
      const version = registry.resolveUri(uri);
      const dir = registry.download(version, out);
      return {
        uri: `models:/${version.name}/${version.version}`,
        dir,
        files: version.artifacts.length,
        bytes: version.sizeBytes,
      };
    });
  },
  render(result, ctx) {
    ctx.out(
      `✔ Wrote ${result.uri} to ${result.dir} (${result.files} files, ${result.bytes} bytes, hashes verified)`,
    );
  },
});
