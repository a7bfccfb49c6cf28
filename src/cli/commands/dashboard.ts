import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";

export const dashboard = defineCommand({
  path: ["dashboard"],
  summary: "Print a one-time login link to the dashboard of the running pier up",
  options: {},
  examples: ["pier dashboard"],
  async handler(_args, ctx) {
    return connect(ctx).call("dashboard.link", {});
  },
  render(result, ctx) {
    ctx.out(result.url);
    ctx.err(
      "One-time link: it opens a session cookie in the browser that follows it (valid 12 h); the link then expires.\n",
    );
  },
});
