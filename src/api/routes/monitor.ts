/** `pier monitor`: an endpoint's signals over a window, and alerts. */
import { parseDuration } from "../../monitor/index.js";
import { userError } from "../../shared/index.js";
import type { ApiDeps, Handlers } from "./handler.js";

/** A time in a query: an ISO date, or a duration back from now ("24h"). */
function timeOf(value: string | null, now: number, fallback: number): number {
  if (!value) return fallback;
  if (/^\d+[smhd]$/.test(value)) return now - parseDuration(value);
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw userError(
      "BadArgument",
      `'${value}' is neither a duration nor a date`,
      "Use e.g. --since 24h or --since 2026-12-01T08:00:00Z.",
    );
  return at;
}

export function monitorRoutes({
  engine,
  monitoring,
}: ApiDeps): Handlers<"monitor.report" | "alerts.list" | "alerts.evaluate"> {
  return {
    "monitor.report": ({ params, query }) => {
      const now = Date.now();
      const from = timeOf(query.get("since"), now, now - 86_400_000);
      const to = timeOf(query.get("until"), now, now);
      if (from >= to)
        throw userError(
          "BadArgument",
          "The window ends before it starts",
          "Give --since a time before --until.",
        );
      return monitoring.report(params.endpoint, from, to, query.get("deployment") ?? undefined);
    },
    "alerts.list": ({ query }) => {
      const endpoint = query.get("endpoint") ?? undefined;
      if (endpoint) engine.endpoints.record(endpoint);
      return { alerts: monitoring.alerts.list(endpoint), rules: monitoring.rules };
    },
    "alerts.evaluate": async () => {
      await monitoring.evaluate();
      return { alerts: monitoring.alerts.list(), rules: monitoring.rules };
    },
  };
}
