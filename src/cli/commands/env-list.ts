import { listEnvironments } from "../../env/index.js";
import { defineCommand, pierHome } from "../command.js";
import { renderEnvironment } from "../format.js";

export const envList = defineCommand({
  path: ["env", "list"],
  summary: "List the Python environments pier has built",
  options: {},
  async handler(_args, ctx) {
    return listEnvironments(pierHome(ctx));
  },
  render(envs, ctx) {
    if (envs.length === 0) {
      ctx.out(
        "No environments built. Deployments build one when the interpreter lacks a package; or: pier env build --model DIR",
      );
      return;
    }
    for (const e of envs) renderEnvironment(e, ctx.out);
  },
});
