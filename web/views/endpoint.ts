/**
 * One endpoint, in tabs: Overview (deployments and instances, live charts, traffic and mirror editor,
 * diagnoses), Rollout, Monitoring, Consume, Test, Logs and Events.
 */

import { bearerOf } from "../../src/api/scoring.js";
import { ApiFailure, call } from "../api";
import { LiveChart } from "../charts";
import { badge, enc, h, ms, note, readableJson, show, time } from "../dom";
import type { Deployment, Diagnosis, EndpointSummary, EngineEvent } from "../types";
import { rolloutTab } from "./rollout";
import type { View } from "./view";

export const TABS = ["overview", "rollout", "monitoring", "consume", "test", "logs", "events"] as const;
export type Tab = (typeof TABS)[number];

const failure = (error: unknown) =>
  note(
    error instanceof ApiFailure
      ? `${error.error.code}: ${error.error.summary}${error.error.fix ? ` ${error.error.fix}` : ""}`
      : String(error),
    "error",
  );

export function diagnosesBlock(diagnoses: Diagnosis[] | undefined): HTMLElement | null {
  if (!diagnoses?.length) return null;
  return h(
    "section",
    { "aria-label": "Diagnosis" },
    diagnoses.map((d) =>
      h(
        "div",
        { class: "diagnosis" },
        h("strong", {}, `${d.code}: `),
        d.cause,
        d.evidence.length ? h("pre", {}, d.evidence.join("\n")) : null,
        h("div", {}, h("strong", {}, "Fix: "), d.fix),
      ),
    ),
  );
}

function deploymentCard(d: Deployment, traffic: number, mirror: number): HTMLElement {
  return h(
    "article",
    { class: "card", "aria-label": `deployment ${d.name}` },
    h("header", {}, h("h3", {}, d.name), badge(d.provisioning_state)),
    h(
      "p",
      { class: "muted" },
      `${d.model} · ${d.instance_type} × ${d.instance_count}${d.autoscale ? ` (autoscaled ${d.autoscale.min_instances}–${d.autoscale.max_instances} at ${d.autoscale.target_utilization_percentage} %)` : ""} · ${traffic} % traffic${mirror ? ` · ${mirror} % mirrored` : ""} · ${d.request_settings.max_concurrent_requests_per_instance} per instance, timeout ${d.request_settings.request_timeout_ms} ms`,
    ),
    // One place per diagnosis: the error's own line only when no diagnosis below already names it.
    d.error && !d.diagnoses?.some((x) => x.code === d.error!.code)
      ? note(`${d.error.code}: ${d.error.summary}`, "error")
      : null,
    diagnosesBlock(d.diagnoses),
    d.instances.length
      ? h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", {}, "Instance"),
              h("th", {}, "State"),
              h("th", { class: "num" }, "Restarts"),
              h("th", {}, "Memory (peak / limit)"),
            ),
          ),
          h(
            "tbody",
            {},
            d.instances.map((i) => {
              const share = Math.min(1, i.peak_rss_mib / Math.max(1, d.memory_limit_mib));
              return h(
                "tr",
                {},
                h("td", {}, h("code", {}, i.id)),
                h(
                  "td",
                  {},
                  badge(i.state),
                  i.out_of_rotation_ms !== undefined ? [" ", badge("out of rotation")] : null,
                ),
                h("td", { class: "num" }, i.restarts),
                h(
                  "td",
                  {},
                  h(
                    "div",
                    {
                      class: "meter",
                      role: "meter",
                      "aria-valuenow": i.peak_rss_mib,
                      "aria-valuemax": d.memory_limit_mib,
                      "aria-label": `memory of ${i.id}`,
                    },
                    h("span", {
                      class: share > 0.8 ? "high" : "",
                      style: `width:${(share * 100).toFixed(1)}%`,
                    }),
                  ),
                  h("small", {}, `${i.peak_rss_mib} / ${d.memory_limit_mib} MiB`),
                ),
              );
            }),
          ),
        )
      : h("p", { class: "muted" }, "No instance running."),
  );
}

/** The traffic and mirror editor: the same rules as the API (it answers any mistake), and a confirmation. */
function trafficEditor(
  endpoint: EndpointSummary,
  message: HTMLElement,
  after: () => Promise<void>,
): HTMLElement {
  const names = endpoint.deployments;
  const live = names.map((name) =>
    h("input", {
      type: "number",
      min: 0,
      max: 100,
      step: 1,
      id: `traffic-${name}`,
      value: endpoint.traffic[name] ?? 0,
      "aria-label": `traffic to ${name} (%)`,
    }),
  );
  const mirrorTarget = h(
    "select",
    { id: "mirror-target", "aria-label": "mirror to deployment" },
    h("option", { value: "" }, "no mirror"),
    names.map((n) => h("option", { value: n, selected: (endpoint.mirror_traffic[n] ?? 0) > 0 }, n)),
  );
  const mirrorShare = h("input", {
    type: "number",
    min: 0,
    max: 50,
    step: 1,
    id: "mirror-percent",
    value: Math.max(0, ...Object.values(endpoint.mirror_traffic)),
    "aria-label": "mirrored share (%)",
  });
  const confirmRow = h("div", { class: "row" });
  const save = h("button", { class: "primary", type: "button" }, "Review change");
  save.addEventListener("click", () => {
    const traffic = names.map((n, i) => `${n}=${live[i]!.value || 0}`).join(",");
    const mirror = mirrorTarget.value
      ? `${mirrorTarget.value}=${mirrorShare.value || 0}`
      : names.map((n) => `${n}=0`).join(",");
    const confirm = h("button", { class: "danger", type: "button" }, "Confirm");
    const cancel = h("button", { type: "button" }, "Cancel");
    show(
      confirmRow,
      h("span", {}, `Set traffic ${traffic}; mirror ${mirrorTarget.value ? mirror : "off"}?`),
      confirm,
      cancel,
    );
    cancel.addEventListener("click", () => show(confirmRow));
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        await call("endpoints.update", {
          endpoint: endpoint.name,
          body: { traffic, mirror_traffic: mirror },
        });
        show(message, note(`Traffic set: ${traffic}`));
        await after();
      } catch (error) {
        show(message, failure(error));
      }
      show(confirmRow);
    });
    confirm.focus();
  });
  return h(
    "section",
    { class: "card", "aria-label": "Traffic" },
    h("h2", {}, "Traffic"),
    h(
      "div",
      { class: "row" },
      names.map((n, i) => h("label", { for: `traffic-${n}` }, `${n} `, live[i]!, " %")),
    ),
    h(
      "div",
      { class: "row" },
      h("label", { for: "mirror-target" }, "Mirror "),
      mirrorTarget,
      h("label", { for: "mirror-percent" }, " share "),
      mirrorShare,
      " %",
    ),
    h("div", { class: "row" }, save),
    confirmRow,
  );
}

function overviewTab(panel: HTMLElement, name: string): View {
  const editor = h("div");
  const message = h("div", { "aria-live": "polite" });
  const cards = h("div", { class: "cards" });
  const rateBox = h("div", { class: "chart" });
  const latencyBox = h("div", { class: "chart" });
  show(
    panel,
    h("section", { "aria-label": "Deployments" }, h("h2", {}, "Deployments"), cards),
    h("h2", {}, "Live (last 3 minutes)"),
    h("div", { class: "charts" }, rateBox, latencyBox),
    editor,
    message,
  );
  const rates = new LiveChart(rateBox, "Requests and errors per second", "");
  const latency = new LiveChart(latencyBox, "Latency", " ms", true);
  let editorShown = false;
  const refresh = async () => {
    const [endpoint, deployments, live] = await Promise.all([
      call("endpoints.show", { endpoint: name }),
      call("deployments.list", { endpoint: name }),
      call("dashboard.live", { endpoint: name }),
    ]);
    show(
      cards,
      deployments.length
        ? deployments.map((d) =>
            deploymentCard(d, endpoint.traffic[d.name] ?? 0, endpoint.mirror_traffic[d.name] ?? 0),
          )
        : note("No deployments yet."),
    );
    if (!editorShown && deployments.length) {
      show(
        editor,
        trafficEditor(
          { ...endpoint, deployments: deployments.map((d) => d.name) } as EndpointSummary,
          message,
          async () => {
            editorShown = false;
            await refresh();
          },
        ),
      );
      editorShown = true;
    }
    const entries = Object.entries(live);
    const times = entries[0]?.[1].map((s) => s.t) ?? [];
    rates.update(
      times,
      entries.flatMap(([d, s]) => [
        { label: `${d} req/s`, values: s.map((x) => x.requests) },
        { label: `${d} errors/s`, values: s.map((x) => x.errors), dash: true },
      ]),
    );
    latency.update(
      times,
      entries.flatMap(([d, s]) => [
        { label: `${d} p50`, values: s.map((x) => x.p50_ms) },
        { label: `${d} p99`, values: s.map((x) => x.p99_ms), dash: true },
      ]),
    );
  };
  return {
    every: 2000,
    refresh,
    stop() {
      rates.destroy();
      latency.destroy();
    },
  };
}

function monitoringTab(panel: HTMLElement, name: string): View {
  const since = h(
    "select",
    { id: "since", "aria-label": "window" },
    ["15m", "1h", "6h", "24h"].map((w) => h("option", { value: w, selected: w === "1h" }, w)),
  );
  const frame = h("iframe", {
    class: "report",
    title: `monitoring report of ${name}`,
    src: `/dashboard/report/${enc(name)}?since=1h`,
  });
  since.addEventListener("change", () => {
    frame.src = `/dashboard/report/${enc(name)}?since=${since.value}`;
  });
  show(panel, h("div", { class: "row" }, h("label", { for: "since" }, "Window "), since), frame);
  return {
    every: 30_000,
    async refresh() {
      frame.contentWindow?.location.reload();
    },
  };
}

/** A JSON value as Python writes it (True, False, None; strings as JSON writes them, which Python reads). */
function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  if (typeof value === "object")
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
      .join(", ")}}`;
  return JSON.stringify(value);
}

/**
 * Code that scores this endpoint as printed: its URL, a key (a placeholder until Reveal fills in the
 * real one) and, inline, the input example of the deployment taking the most traffic.
 */
function samples(uri: string, credential: string, example: unknown): [string, string][] {
  const body = JSON.stringify(example);
  const shell = `'${body.replaceAll("'", "'\\''")}'`;
  return [
    [
      "curl",
      `curl -s ${uri} \\\n  -H "Authorization: Bearer ${credential}" \\\n  -H "Content-Type: application/json" \\\n  -d ${shell}`,
    ],
    [
      "Python",
      `import json, urllib.request\n\nbody = ${pythonLiteral(example)}\nrequest = urllib.request.Request(\n    "${uri}",\n    data=json.dumps(body).encode(),\n    headers={"Authorization": "Bearer ${credential}", "Content-Type": "application/json"},\n)\nprint(json.load(urllib.request.urlopen(request)))`,
    ],
    [
      "JavaScript",
      `const response = await fetch("${uri}", {\n  method: "POST",\n  headers: { authorization: "Bearer ${credential}", "content-type": "application/json" },\n  body: JSON.stringify(${body}),\n});\nconsole.log(response.status, await response.json());`,
    ],
  ];
}

function consumeTab(panel: HTMLElement, name: string): View {
  return {
    async refresh() {
      const [endpoint, deployments] = await Promise.all([
        call("endpoints.show", { endpoint: name }),
        call("deployments.list", { endpoint: name }),
      ]);
      const masked = "••••••••••••••••";
      const keyBox = h("code", { id: "key" }, masked);
      let key: string | undefined;
      const fetchKey = async () => {
        key ??= bearerOf(await call("endpoints.credentials", { endpoint: name }));
        return key;
      };
      const busiest = [...deployments].sort(
        (a, b) => (endpoint.traffic[b.name] ?? 0) - (endpoint.traffic[a.name] ?? 0),
      )[0];
      const example = busiest ? await exampleRequest(busiest) : null;
      const body = example ?? { input_data: [] };
      const placeholder =
        endpoint.auth_mode === "key"
          ? "<primary key: press Reveal above>"
          : `<token: pier endpoint get-credentials ${name}>`;
      const code = h("div", {});
      const render = (credential: string) =>
        show(
          code,
          samples(endpoint.scoring_uri, credential, body).map(([lang, text]) =>
            h("section", { class: "card" }, h("h3", {}, lang), h("pre", { class: "log" }, text)),
          ),
        );
      render(placeholder);
      const reveal = h("button", { type: "button", "aria-controls": "key" }, "Reveal");
      reveal.addEventListener("click", async () => {
        const hidden = keyBox.textContent?.startsWith("•");
        const shown = hidden ? await fetchKey() : undefined;
        keyBox.textContent = shown ?? masked;
        reveal.textContent = shown ? "Hide" : "Reveal";
        render(shown ?? placeholder);
      });
      const copy = h("button", { type: "button" }, "Copy key");
      const copied = h("span", { "aria-live": "polite" });
      copy.addEventListener("click", async () => {
        await navigator.clipboard.writeText(await fetchKey()).then(
          () => show(copied, " copied"),
          () => show(copied, " (the browser refused the clipboard: use Reveal)"),
        );
      });
      show(
        panel,
        h(
          "section",
          { class: "card" },
          h("h2", {}, "Scoring"),
          h("p", {}, "URL ", h("code", {}, endpoint.scoring_uri)),
          h("p", {}, "OpenAPI ", h("a", { href: endpoint.openapi_uri }, endpoint.openapi_uri)),
          h(
            "p",
            {},
            `Auth: ${endpoint.auth_mode} `,
            endpoint.auth_mode === "key" ? ["Primary key ", keyBox, " ", reveal, " ", copy, copied] : null,
          ),
          h(
            "p",
            { class: "muted" },
            busiest && example
              ? `The samples send the input example of ${busiest.model} (deployment ${busiest.name}, ${endpoint.traffic[busiest.name] ?? 0} % of traffic).`
              : "No deployment has an input example: put your rows in the body.",
          ),
        ),
        code,
      );
    },
  };
}

/** The input example of the model a deployment serves, as a /score body (null when it has none). */
async function exampleRequest(deployment: Deployment): Promise<unknown> {
  const [, model, version] = deployment.model.split("/");
  const detail = await call("models.show", { model: model ?? "" });
  const example = detail.versions.find((v) => String(v.version) === version)?.inputExample as
    | { columns?: unknown[]; data?: unknown[][] }
    | unknown[]
    | null;
  if (example && !Array.isArray(example) && Array.isArray(example.columns) && Array.isArray(example.data))
    return {
      input_data: { columns: example.columns, index: example.data.map((_, i) => i), data: example.data },
    };
  return example ? { input_data: example } : null;
}

const exampleBody = async (deployment: Deployment): Promise<string> =>
  readableJson((await exampleRequest(deployment)) ?? { input_data: [] });

function testTab(panel: HTMLElement, name: string): View {
  return {
    async refresh() {
      const deployments = await call("deployments.list", { endpoint: name });
      const target = h(
        "select",
        { id: "test-deployment", "aria-label": "deployment" },
        h("option", { value: "" }, "by traffic"),
        deployments.map((d) => h("option", { value: d.name }, d.name)),
      );
      const body = h("textarea", { id: "test-body", "aria-label": "request body", spellcheck: false });
      const result = h("div", { "aria-live": "polite" });
      const send = h("button", { class: "primary", type: "button" }, "Send");
      const load = async () => {
        const d = deployments.find((x) => x.name === target.value) ?? deployments[0];
        if (d) body.value = await exampleBody(d);
        body.rows = Math.min(24, body.value.split("\n").length + 1);
      };
      target.addEventListener("change", load);
      send.addEventListener("click", async () => {
        send.disabled = true;
        try {
          const credential = bearerOf(await call("endpoints.credentials", { endpoint: name }));
          const started = performance.now();
          const response = await fetch(`/endpoints/${enc(name)}/score`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${credential}`,
              "content-type": "application/json",
              ...(target.value ? { "azureml-model-deployment": target.value } : {}),
            },
            body: body.value,
          });
          const text = await response.text();
          let shown = text;
          try {
            shown = readableJson(JSON.parse(text));
          } catch {}
          show(
            result,
            h(
              "p",
              {},
              badge(String(response.status)),
              ` from ${response.headers.get("azureml-model-deployment") ?? "?"} in ${ms(performance.now() - started)}`,
            ),
            h("pre", { class: "log", id: "test-answer" }, shown),
          );
        } catch (error) {
          show(result, failure(error));
        }
        send.disabled = false;
      });
      show(
        panel,
        h("div", { class: "row" }, h("label", { for: "test-deployment" }, "Deployment "), target),
        h("label", { for: "test-body" }, "Request (the model's input example; edit it)"),
        body,
        h("div", { class: "row" }, send),
        result,
      );
      await load();
    },
  };
}

function logsTab(panel: HTMLElement, name: string): View {
  const deployment = h("select", { id: "log-deployment", "aria-label": "deployment" });
  const container = h(
    "select",
    { id: "log-container", "aria-label": "container" },
    h("option", { value: "inference-server" }, "inference-server"),
    h("option", { value: "storage-initializer" }, "storage-initializer"),
  );
  const follow = h("input", { type: "checkbox", id: "follow", checked: true });
  const output = h("pre", { class: "log", id: "logs", tabindex: 0 });
  show(
    panel,
    h(
      "div",
      { class: "row" },
      h("label", { for: "log-deployment" }, "Deployment "),
      deployment,
      h("label", { for: "log-container" }, " Container "),
      container,
      h("label", { for: "follow" }, follow, " follow"),
    ),
    output,
  );
  let loaded = false;
  const refresh = async () => {
    if (!loaded) {
      const names = (await call("deployments.list", { endpoint: name })).map((d) => d.name);
      show(
        deployment,
        names.map((n) => h("option", { value: n }, n)),
      );
      loaded = true;
    }
    if (!deployment.value) return show(output, "No deployments.");
    const { logs } = await call("deployments.logs", {
      endpoint: name,
      deployment: deployment.value,
      query: { container: container.value, lines: 200 },
    });
    const atEnd = output.scrollTop + output.clientHeight >= output.scrollHeight - 20;
    output.textContent = logs || "(no log lines yet)";
    if (atEnd) output.scrollTop = output.scrollHeight;
  };
  for (const control of [deployment, container]) control.addEventListener("change", () => void refresh());
  return {
    every: 2000,
    async refresh() {
      if (follow.checked || !loaded) await refresh();
    },
  };
}

/** What an event is about: its deployment and instance, a rollout, an alert's rule, or the endpoint itself. */
function whereOf(e: EngineEvent, endpoint: string): string {
  if (e.deployment) return [e.deployment, e.instance].filter(Boolean).join(" / ");
  switch (e.kind) {
    case "RolloutStarted":
      return `rollout #${e.data.rollout}: ${e.data.stable} → ${e.data.candidate}`;
    case "RolloutStep":
    case "RolloutEnded":
    case "RolloutResumed":
      return `rollout #${e.data.rollout}`;
    case "AlertFiring":
    case "AlertResolved":
      return `alert ${e.data.rule}`;
    default:
      return `endpoint ${endpoint}`;
  }
}

function eventsTab(panel: HTMLElement, name: string): View {
  return {
    every: 3000,
    async refresh() {
      const events = await call("endpoints.events", { endpoint: name });
      show(
        panel,
        h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", {}, "Time"),
              h("th", {}, "Event"),
              h("th", {}, "Where"),
              h("th", {}, "What happened"),
            ),
          ),
          h(
            "tbody",
            {},
            [...events]
              .reverse()
              .slice(0, 300)
              .map((e) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "when" }, time(e.at)),
                  h("td", {}, badge(e.kind)),
                  h("td", {}, whereOf(e, name)),
                  h("td", {}, e.message),
                ),
              ),
          ),
        ),
      );
    },
  };
}

export function endpointView(main: HTMLElement, name: string, tab: Tab): View {
  const panel = h("div", { id: "panel", role: "tabpanel", "aria-label": tab });
  show(
    main,
    h("h1", {}, h("a", { href: "#/" }, "Endpoints"), " / ", name),
    h(
      "nav",
      { class: "tabs", role: "tablist", "aria-label": "Endpoint views" },
      TABS.map((t) =>
        h(
          "a",
          {
            href: `#/e/${enc(name)}/${t}`,
            role: "tab",
            "aria-current": t === tab ? "page" : undefined,
            "aria-selected": t === tab ? "true" : "false",
          },
          t[0]!.toUpperCase() + t.slice(1),
        ),
      ),
    ),
    panel,
  );
  const views: Record<Tab, (panel: HTMLElement, name: string) => View> = {
    overview: overviewTab,
    rollout: rolloutTab,
    monitoring: monitoringTab,
    consume: consumeTab,
    test: testTab,
    logs: logsTab,
    events: eventsTab,
  };
  return views[tab](panel, name);
}
