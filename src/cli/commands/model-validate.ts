import { resolve } from "node:path";
import { validateModelDir } from "../../env/index.js";
import { requireModelFolder } from "../../model/index.js";
import { hasErrors } from "../../shared/index.js";
import { choiceOption, defineCommand, FIDELITIES, fidelityOption } from "../command.js";
import { countBySeverity, renderFindings } from "../format.js";
import { positional } from "./model-common.js";

export const modelValidate = defineCommand({
  path: ["model", "validate"],
  summary:
    "Check an MLflow model folder's structure, environment pins and safety before it reaches a deployment",
  positionals: [{ name: "DIR", description: "the MLflow model folder", required: true }],
  options: fidelityOption,
  examples: [
    "pier model validate ./model",
    "pier model validate ../shared/fixtures/mlflow/seed-financial-behavior-broken -o json",
  ],
  async handler(args, ctx) {
    const dir = requireModelFolder(
      resolve(ctx.cwd, positional(args, 0, "DIR", "pier model validate ./model")),
    );
    const { findings } = await validateModelDir(
      dir,
      choiceOption(args.options.fidelity, "fidelity", FIDELITIES),
    );
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
