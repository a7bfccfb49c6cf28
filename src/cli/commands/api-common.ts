/** Helpers for commands that talk to the running `pier up`. */

import { ApiClient, type DeploymentReport } from "../../api/index.js";
import type { Diagnosis } from "../../doctor/index.js";
import type { EndpointView, ProgressEvent } from "../../engine/index.js";
import { PierError } from "../../shared/index.js";
import type { CommandContext, ParsedArgs } from "../command.js";
import { pierHome } from "../command.js";
import { ms } from "../format.js";

export function connect(ctx: CommandContext): ApiClient {
  return ApiClient.connect(pierHome(ctx));
}

/** A name given as the first positional or with --name/-n. */
export function nameArgument(args: ParsedArgs<typeof nameOption>, what: string, example: string): string {
  const value = args.positionals[0] ?? args.options.name;
  if (!value)
    throw new PierError({
      code: "MissingArgument",
      summary: `Missing the ${what} name`,
      fix: `Pass it, e.g. ${example}`,
    });
  return value;
}

export function endpointArgument(args: ParsedArgs<typeof endpointNameOption>, example: string): string {
  const value = args.options["endpoint-name"];
  if (!value)
    throw new PierError({
      code: "MissingArgument",
      summary: "Missing --endpoint-name (-e)",
      fix: `Pass it, e.g. ${example}`,
    });
  return value;
}

export function renderEndpoint(e: EndpointView, ctx: CommandContext): void {
  ctx.out(`${e.name}  ${e.provisioning_state}  auth_mode ${e.auth_mode}`);
  ctx.out(`  scoring_uri     ${e.scoring_uri}`);
  ctx.out(`  traffic         ${JSON.stringify(e.traffic)}`);
  ctx.out(`  mirror_traffic  ${JSON.stringify(e.mirror_traffic)}`);
  ctx.out(`  deployments     ${e.deployments.join(", ") || "(none)"}`);
}

export function renderDeployment(d: DeploymentReport, ctx: CommandContext): void {
  ctx.out(`${d.endpoint_name}/${d.name}  ${d.provisioning_state}  ${d.model}`);
  const scale = d.autoscale
    ? `, autoscaled ${d.autoscale.min_instances}–${d.autoscale.max_instances} at ${d.autoscale.target_utilization_percentage} % utilization`
    : "";
  ctx.out(
    `  ${d.instance_type} × ${d.instance_count}${scale} (memory limit ${d.memory_limit_mib} MiB per instance)`,
  );
  ctx.out(`  request_settings ${JSON.stringify(d.request_settings)}`);
  for (const i of d.instances) {
    ctx.out(
      `  instance ${i.id}: ${i.state}${i.out_of_rotation_ms !== undefined ? ` but not answering: out of rotation for ${(i.out_of_rotation_ms / 1000).toFixed(1)} s` : ""}, pid ${i.pid}, restarts ${i.restarts}, peak ${i.peak_rss_mib} MiB${i.last_exit ? `, last exit: ${i.last_exit}` : ""}`,
    );
  }
  if (d.diagnoses?.length) {
    // The error is the doctor's first diagnosis: printed once, with its evidence and fix.
    ctx.out("pier doctor:");
    renderDiagnoses(d.diagnoses, ctx.out);
  } else if (d.error) {
    ctx.out(`✘ ${d.error.code}: ${d.error.summary}`);
    for (const line of d.error.details) ctx.out(`  ${line}`);
    if (d.error.fix) ctx.out(`How to fix:\n  ${d.error.fix}`);
  }
}

/** Diagnoses as people read them: code and cause, the evidence, the fix. */
export function renderDiagnoses(diagnoses: readonly Diagnosis[], out: (text: string) => void): void {
  diagnoses.forEach((d, i) => {
    out(`${diagnoses.length > 1 ? `${i + 1}. ` : ""}✘ ${d.code}: ${d.cause}`);
    for (const line of d.evidence) out(`    ${line}`);
    out(`  How to fix: ${d.fix}`);
  });
}

export const endpointNameOption = {
  "endpoint-name": {
    type: "string" as const,
    short: "e",
    valueName: "EP",
    description: "endpoint name (required)",
  },
};
export const nameOption = {
  name: {
    type: "string" as const,
    short: "n",
    valueName: "NAME",
    description: "name (or pass it as the first argument)",
  },
};

/** Prints each step of a long operation as it happens, with its mark and time. */
export function progressLine(ctx: CommandContext) {
  return (event: ProgressEvent) => {
    const mark =
      event.status === "error"
        ? "✘"
        : event.status === "warning"
          ? "⚠"
          : event.status === "ok"
            ? "✔"
            : event.status === "info"
              ? "·"
              : "…";
    ctx.err(
      `${mark} ${event.step.padEnd(11)} ${event.message}${event.ms !== undefined ? ` (${ms(event.ms)})` : ""}\n`,
    );
  };
}
