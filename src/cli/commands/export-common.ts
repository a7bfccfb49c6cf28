/** What `pier export azureml` and `pier export kserve` share: the export call, --check, and how results read. */
import { resolve } from "node:path";
import { type CheckFinding, checkExportDir, type ExportResult } from "../../export/index.js";
import { userError } from "../../shared/index.js";
import type { CommandContext } from "../command.js";

export type ExportOutcome =
  | ({ checked: false } & ExportResult)
  | { checked: true; dir: string; files: string[]; findings: CheckFinding[] };

export const exportOptions = {
  "endpoint-name": {
    type: "string" as const,
    short: "e",
    valueName: "EP",
    description: "endpoint name (required)",
  },
  "deployment-name": {
    type: "string" as const,
    short: "n",
    valueName: "NAME",
    description: "one deployment (default: every deployment of the endpoint)",
  },
  out: { type: "string" as const, valueName: "DIR", description: "an empty or new folder to write into" },
  check: {
    type: "string" as const,
    valueName: "DIR",
    description: "check the files in DIR (after edits) instead of exporting",
  },
};

export async function runExport(
  ctx: CommandContext,
  target: "azureml" | "kserve",
  options: { "endpoint-name"?: string; "deployment-name"?: string; out?: string; check?: string },
  extra: Record<string, unknown> = {},
): Promise<ExportOutcome> {
  if (options.check) {
    const dir = resolve(ctx.cwd, options.check);
    const { files, findings } = checkExportDir(dir);
    if (files.length === 0)
      throw userError(
        "FileNotFound",
        `${dir} holds no YAML to check`,
        `Give the folder pier export ${target} --out wrote.`,
      );
    return { checked: true, dir, files, findings };
  }
  const endpoint = options["endpoint-name"];
  if (!endpoint)
    throw userError(
      "BadArgument",
      "Name the endpoint to export with -e",
      `pier export ${target} -e fin-behavior --out ${target}`,
    );
  if (!options.out)
    throw userError(
      "BadArgument",
      "Name the folder to write with --out",
      `pier export ${target} -e ${endpoint} --out ${target}`,
    );
  // The API client is loaded only for an export: a --check needs none of it.
  const { connect } = await import("./api-common.js");
  const result = await connect(ctx).call("export.write", {
    endpoint,
    body: {
      target,
      out: resolve(ctx.cwd, options.out),
      ...(options["deployment-name"] ? { deployment: options["deployment-name"] } : {}),
      ...extra,
    },
  });
  return { checked: false, ...result };
}

export function renderFindings(findings: readonly CheckFinding[], ctx: CommandContext): void {
  for (const f of findings) ctx.out(`✘ ${f.file} ${f.path}: ${f.message} [${f.rule}]`);
}

export function renderExport(outcome: ExportOutcome, ctx: CommandContext): void {
  if (outcome.checked) {
    renderFindings(outcome.findings, ctx);
    ctx.out(
      outcome.findings.length
        ? `✘ ${outcome.findings.length} problem(s) in ${outcome.files.length} file(s) of ${outcome.dir}`
        : `✔ ${outcome.files.length} file(s) of ${outcome.dir} check out`,
    );
    return;
  }
  renderFindings(outcome.findings, ctx);
  ctx.out(`✔ Wrote ${outcome.files.length} item(s) to ${outcome.dir}: ${outcome.files.join(", ")}`);
  for (const c of outcome.chosen)
    ctx.out(`  · ${c.deployment ? `${c.deployment}: ` : ""}${c.what} (${c.why})`);
  for (const c of outcome.notCarried)
    ctx.out(`  ⚠ not carried over: ${c.deployment ? `${c.deployment}: ` : ""}${c.what} (${c.why})`);
  ctx.out(`  Next: read ${outcome.dir}/README.md for the commands, in order`);
}

export const exportExitCode = (outcome: ExportOutcome) => (outcome.findings.length > 0 ? 1 : 0);
