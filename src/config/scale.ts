/**
 * A deployment's scale_settings as a rule: min and max instances, how often to read the load, the
 * target utilization, and the CPU each instance requests (against which CPU use is a utilization).
 */
import { availableParallelism } from "node:os";
import { findInstanceType } from "./instance-types.js";
import type { DeploymentSpec } from "./schemas.js";

export interface ScaleRule {
  min: number;
  max: number;
  pollingMs: number;
  /** The target utilization, as a fraction (0.7 for 70 %). */
  target: number;
  /** CPU each instance requests, in cores. */
  cpuCores: number;
}

/** A Kubernetes quantity of CPU ("0.5", "500m", 2) in cores; undefined when it is not one. */
export function parseCpuQuantity(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(value).trim());
  if (!match) return undefined;
  const cores = Number(match[1]) / (match[2] ? 1000 : 1);
  return cores > 0 ? cores : undefined;
}

/** The deployment's scaling rule, or undefined when its instance count is fixed. */
export function scaleRuleOf(spec: DeploymentSpec): ScaleRule | undefined {
  const scale = spec.scale_settings;
  if (scale?.type !== "target_utilization") return undefined;
  const typeCores = findInstanceType(spec.instance_type)?.vcpus ?? 1;
  return {
    min: scale.min_instances,
    max: scale.max_instances,
    pollingMs: scale.polling_interval * 1000,
    target: scale.target_utilization_percentage / 100,
    cpuCores: parseCpuQuantity(spec.resources?.requests?.cpu) ?? Math.min(typeCores, availableParallelism()),
  };
}
