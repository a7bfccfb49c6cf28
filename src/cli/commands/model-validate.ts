import { validateModelDir } from "../../env/index.js";
import { requireModelFolder } from "../../model/index.js";
import { hasErrors } from "../../shared/index.js";
import { defineCommand } from "../command.js";
import { countBySeverity, renderFindings } from "../format.js";
import { positional } from "./model-common.js";

export const modelValidate = defineCommand({
  path: ["model", "validate"],
  summary:
    "Check an MLflow model folder's structure, environment pins and safety before it reaches a deployment",
  positionals: [{ name: "DIR", description: "the MLflow model folder", required: true }],
  options: {},
  examples: [
    "pier model validate ./model",
    "pier model validate ../shared/fixtures/mlflow/seed-financial-behavior-broken -o json",
  ],
  async handler(args) {
    const dir = requireModelFolder(positional(args, 0, "DIR", "pier model validate ./model"));
    const { findings } = validateModelDir(dir);
    return { dir, valid: !hasErrors(findings), findings };
  },
  render(result, ctx) {
    renderFindings(result.findings, ctx.out);
    ctx.out(
      result.valid
        ? `✔ ${result.dir} can be registered (${countBySeverity(result.findings)})`
        : `✘ ${result.dir} would fail: ${countBySeverity(result.findings)}`,
    );
  },
  exitCode: (result) => (result.valid ? 0 : 1),
});
