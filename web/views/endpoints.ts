/** Endpoints: each one's state, traffic and mirror, requests per second, p99 and error rate, with a sparkline. */
import { call } from "../api";
import { sparkline } from "../charts";
import { badge, enc, h, ms, pct, show, toneOf } from "../dom";
import type { View } from "./view";

const chips = (map: Record<string, number>) =>
  Object.entries(map)
    .filter(([, w]) => w > 0)
    .map(([name, w]) => h("span", { class: "chip" }, `${name} ${w} %`));

export function endpointsView(main: HTMLElement): View {
  const table = h("div");
  const alerts = h("div");
  show(main, h("h1", {}, "Endpoints"), alerts, table);
  return {
    every: 3000,
    async refresh() {
      const overview = await call("dashboard.overview", {});
      show(
        alerts,
        overview.alerts.length
          ? h(
              "div",
              { class: "note error", role: "alert" },
              h("strong", {}, `${overview.alerts.length} alert(s) firing: `),
              overview.alerts.map((a) =>
                h("div", {}, `${a.rule} (${a.severity}) on ${a.endpoint}/${a.deployment}: ${a.summary}`),
              ),
            )
          : null,
      );
      if (overview.endpoints.length === 0) {
        show(
          table,
          h(
            "p",
            { class: "note" },
            "No endpoints yet. Create one: ",
            h("code", {}, "pier endpoint create -n fin"),
          ),
        );
        return;
      }
      show(
        table,
        h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Endpoint"),
              h("th", { scope: "col" }, "State"),
              h("th", { scope: "col" }, "Traffic"),
              h("th", { scope: "col", class: "hide-narrow" }, "Mirror"),
              h("th", { scope: "col", class: "num" }, "Req/s"),
              h("th", { scope: "col", class: "num" }, "p99"),
              h("th", { scope: "col", class: "num" }, "Errors"),
              h("th", { scope: "col", class: "hide-narrow" }, "Last 30 min"),
            ),
          ),
          h(
            "tbody",
            {},
            overview.endpoints.map((e) =>
              h(
                "tr",
                {},
                h(
                  "td",
                  {},
                  h("a", { href: `#/e/${enc(e.name)}` }, e.name),
                  e.rollout ? [" ", badge(`rollout ${e.rollout}`)] : null,
                ),
                h(
                  "td",
                  {},
                  badge(e.provisioning_state),
                  " ",
                  // Every deployment, the healthy ones too: a Failed one beside a serving one reads as it is.
                  Object.entries(e.deployment_states).map(([d, s]) => [badge(`${d}: ${s}`, toneOf(s)), " "]),
                ),
                h(
                  "td",
                  {},
                  chips(e.traffic).length ? chips(e.traffic) : h("span", { class: "muted" }, "none"),
                ),
                h("td", { class: "hide-narrow" }, chips(e.mirror_traffic)),
                h("td", { class: "num" }, e.requests_per_second.toFixed(1)),
                h("td", { class: "num" }, ms(e.p99_ms)),
                h("td", { class: "num" }, pct(e.error_rate)),
                h(
                  "td",
                  { class: "hide-narrow" },
                  sparkline(e.requests_per_minute, `requests per minute of ${e.name}, last 30 minutes`),
                ),
              ),
            ),
          ),
        ),
      );
    },
  };
}
