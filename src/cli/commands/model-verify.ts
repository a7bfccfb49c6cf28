import { defineCommand } from "../command.js";
import { withRegistry } from "./model-common.js";

const size = (bytes: number) =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

export const modelVerify = defineCommand({
  path: ["model", "verify"],
  summary:
    "Re-hash every file in the model store and name the versions a missing or damaged file breaks, with the folder to register again",
  positionals: [{ name: "NAME", description: "only this registered model's files" }],
  options: {},
  examples: ["pier model verify", "pier model verify financial-behavior-model -o json"],
  async handler(args, ctx) {
    return withRegistry(ctx, (registry) => registry.verify(args.positionals[0]));
  },
  render(result, ctx) {
    for (const blob of result.damaged) {
      const [first] = blob.uses;
      ctx.out(
        `✘ ${blob.state === "missing" ? "missing" : "damaged"}: ${first?.path} (sha256 ${blob.sha256.slice(0, 16)}…)`,
      );
      for (const use of blob.uses)
        ctx.out(`    breaks models:/${use.name}/${use.version} (${use.path}), registered from ${use.source}`);
    }
    if (result.damaged.length === 0) {
      ctx.out(`✔ ${result.checkedFiles} file(s), ${size(result.checkedBytes)}: every one matches its sha256`);
      return;
    }
    ctx.out(
      `✘ ${result.damaged.length} of ${result.checkedFiles} file(s) missing or damaged; ${result.brokenVersions.length} version(s) cannot be deployed or downloaded: ${result.brokenVersions.join(", ")}`,
    );
    const first = result.damaged[0]!.uses[0]!;
    ctx.out(
      `How to fix:\n  Register one version that uses each file again from its source, e.g. pier model register ${first.source} --name ${first.name}: the damaged copy is replaced, and every version that shares it is whole again. Failed deployments start again at the next pier up, or with pier deployment update.`,
    );
  },
  exitCode: (result) => (result.damaged.length === 0 ? 0 : 1),
});
