/** A rollout's state, traffic weights and disagreement on /metrics, for dashboards and alerts. */
import { Gauge, type Registry } from "prom-client";
import type { Rollouts } from "./rollouts.js";

const STATES = ["Running", "Held", "Succeeded", "RolledBack", "Aborted"] as const;

export function registerRolloutMetrics(registry: Registry, rollouts: Rollouts): void {
  new Gauge({
    name: "pier_rollout_state",
    help: "1 for the state of each endpoint's rollout under way (Running or Held)",
    labelNames: ["endpoint", "rollout", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rollouts.active())
        for (const state of STATES)
          this.set({ endpoint: r.endpoint, rollout: String(r.id), state }, r.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: "pier_rollout_weight",
    help: "Traffic percent of each deployment of an endpoint with a rollout under way, live or mirrored",
    labelNames: ["endpoint", "deployment", "kind"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rollouts.active()) {
        const { live, mirror } = rollouts.weights(r.endpoint);
        for (const deployment of [r.stable, r.candidate]) {
          this.set({ endpoint: r.endpoint, deployment, kind: "live" }, live[deployment] ?? 0);
          this.set({ endpoint: r.endpoint, deployment, kind: "mirror" }, mirror[deployment] ?? 0);
        }
      }
    },
  });
  new Gauge({
    name: "pier_rollout_step",
    help: "The step a rollout under way is at (0 = smoke)",
    labelNames: ["endpoint", "rollout"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rollouts.active()) this.set({ endpoint: r.endpoint, rollout: String(r.id) }, r.step);
    },
  });
  new Gauge({
    name: "pier_rollout_requests",
    help: "Requests in the current step's window, by deployment role (candidate, stable) and outcome (ok, failed)",
    labelNames: ["endpoint", "role", "outcome"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rollouts.active()) {
        const stats = rollouts.live(r.endpoint);
        if (!stats) continue;
        for (const role of ["candidate", "stable"] as const) {
          const side = stats[role];
          const failed = Object.values(side.failures).reduce((a, b) => a + (b ?? 0), 0);
          this.set({ endpoint: r.endpoint, role, outcome: "failed" }, failed);
          this.set({ endpoint: r.endpoint, role, outcome: "ok" }, side.requests - failed);
        }
      }
    },
  });
  new Gauge({
    name: "pier_rollout_disagreement",
    help: "The current step's disagreement between the new deployment's answers and the stable's, per output and metric (label_flip_rate, relative_delta_mean)",
    labelNames: ["endpoint", "output", "metric"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rollouts.active()) {
        const stats = rollouts.live(r.endpoint);
        if (!stats) continue;
        for (const [output, o] of Object.entries(stats.outputs)) {
          if (o.kind === "label")
            this.set(
              { endpoint: r.endpoint, output, metric: "label_flip_rate" },
              o.values ? o.flips / o.values : 0,
            );
          else
            this.set(
              { endpoint: r.endpoint, output, metric: "relative_delta_mean" },
              o.deltas.length ? o.deltas.reduce((a, b) => a + b, 0) / o.deltas.length : 0,
            );
        }
      }
    },
  });
}
