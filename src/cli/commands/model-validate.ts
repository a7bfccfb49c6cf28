import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileInFolder, validateModelDir } from "../../env/index.js";
import { interfaceLines, modelInterface, requireModelFolder } from "../../model/index.js";
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
    const { findings, mlmodel } = await validateModelDir(
      dir,
      choiceOption(args.options.fidelity, "fidelity", FIDELITIES),
    );
    const readFile = (path: string) => {
      const file = fileInFolder(dir)(path);
      return file ? readFileSync(file) : undefined;
    };
    const iface = mlmodel
      ? interfaceLines(
          modelInterface({ flavors: mlmodel.flavors, signature: mlmodel.signature, readFile }).interface,
          basename(dir),
        )
      : [];
    return { dir, valid: !hasErrors(findings), findings, interface: iface };
  },
  render(result, ctx) {
    renderFindings(result.findings, ctx.out);
    for (const line of result.interface) ctx.out(`  ${line}`);
    ctx.out(
      result.valid
        ? `✔ ${result.dir} can be registered (${countBySeverity(result.findings)})`
        : `✘ ${result.dir} would fail: ${countBySeverity(result.findings)}`,
    );
  },
  exitCode: (result) => (result.valid ? 0 : 1),
});
