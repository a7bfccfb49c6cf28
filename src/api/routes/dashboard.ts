/** What the dashboard reads beyond the other routes: one overview, live seconds, the registry, a login link. */
import type { EndpointSummary } from "../contract.js";
import type { ApiDeps, Handlers } from "./handler.js";

type Names = "dashboard.overview" | "dashboard.live" | "dashboard.link" | "models.list" | "models.show";

export function dashboardRoutes({ engine, rollouts, monitoring, dashboard }: ApiDeps): Handlers<Names> {
  return {
    "dashboard.overview": () => {
      const now = Date.now();
      return {
        endpoints: engine.endpoints.list().map((e): EndpointSummary => {
          const names = engine.store.deployments(e.name).map((d) => d.name);
          const seconds = names.flatMap((d) => monitoring.series.live(e.name, d, now).slice(-60));
          const requests = seconds.reduce((s, x) => s + x.requests, 0);
          const errors = seconds.reduce((s, x) => s + x.errors, 0);
          const p99 = Math.max(0, ...seconds.map((x) => x.p99_ms ?? 0));
          const minutes = monitoring.series.minutes(e.name, undefined, now - 30 * 60_000);
          const perMinute = Array.from({ length: 30 }, (_, i) => {
            const start = now - (now % 60_000) - (29 - i) * 60_000;
            return minutes.filter((m) => m.minute === start).reduce((s, m) => s + m.requests, 0);
          });
          return {
            ...e,
            deployment_states: Object.fromEntries(
              names.map((d) => [d, engine.store.deployment(e.name, d)!.provisioningState]),
            ),
            requests_per_second: requests / 60,
            p99_ms: p99 || null,
            error_rate: requests ? errors / requests : 0,
            requests_per_minute: perMinute,
            rollout: rollouts.active().find((r) => r.endpoint === e.name)?.state ?? null,
          };
        }),
        alerts: monitoring.alerts.firing(),
      };
    },
    "dashboard.live": ({ params }) => {
      const endpoint = params.endpoint;
      engine.endpoints.record(endpoint);
      return Object.fromEntries(
        engine.store.deployments(endpoint).map((d) => [d.name, monitoring.series.live(endpoint, d.name)]),
      );
    },
    "dashboard.link": () => ({ url: dashboard.loginLink() }),
    "models.list": () => engine.registry.listModels(),
    "models.show": ({ params }) => {
      const model = engine.registry.getModel(params.model);
      return { ...model, versions: model.versions.map((v) => engine.registry.getVersion(model.name, v)) };
    },
  };
}
