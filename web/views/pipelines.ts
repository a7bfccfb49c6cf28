/** Pipeline runs: each run's outcome, and a run's decision record with its approval buttons when it waits. */
import { ApiFailure, call } from "../api";
import { badge, h, note, show, time } from "../dom";
import type { View } from "./view";

const TONE: Record<string, "good" | "bad" | "warn" | "info"> = {
  Succeeded: "good",
  Running: "info",
  WaitingApproval: "warn",
  Held: "warn",
  Interrupted: "warn",
};

const num = (v: number | null) => (v === null ? "–" : v.toFixed(4));

export function pipelinesView(main: HTMLElement): View {
  return {
    every: 3000,
    async refresh() {
      const runs = await call("pipeline.list", {});
      show(
        main,
        h("h1", {}, "Pipeline runs"),
        runs.length
          ? h(
              "table",
              {},
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", {}, "Run"),
                  h("th", {}, "Pipeline"),
                  h("th", {}, "State"),
                  h("th", { class: "hide-narrow" }, "Started"),
                  h("th", {}, "Outcome"),
                ),
              ),
              h(
                "tbody",
                {},
                runs.map((r) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("a", { href: `#/pipelines/${r.id}` }, `#${r.id}`)),
                    h("td", {}, r.name),
                    h(
                      "td",
                      {},
                      badge(r.state, TONE[r.state] ?? "bad"),
                      r.forced ? [" ", badge("forced", "warn")] : null,
                    ),
                    h("td", { class: "hide-narrow" }, time(r.startedAt)),
                    h("td", {}, r.outcome ?? ""),
                  ),
                ),
              ),
            )
          : h(
              "p",
              { class: "note" },
              "No pipeline runs yet: ",
              h("code", {}, "pier pipeline run -f pipeline.yml"),
            ),
      );
    },
  };
}

export function pipelineView(main: HTMLElement, id: string): View {
  const message = h("div", { "aria-live": "polite" });
  const body = h("div");
  show(main, h("h1", {}, h("a", { href: "#/pipelines" }, "Pipeline runs"), ` / #${id}`), message, body);
  const comment = h("input", {
    type: "text",
    id: "decision-comment",
    "aria-label": "comment",
    size: 40,
    placeholder: "why (kept in the record)",
  });
  const decide = (verb: "approve" | "reject") => async () => {
    try {
      await call(verb === "approve" ? "pipeline.approve" : "pipeline.reject", {
        run: id,
        body: { by: "dashboard", comment: comment.value },
      });
      show(message, note(`Run #${id}: ${verb === "approve" ? "approved" : "rejected"}`));
    } catch (error) {
      show(
        message,
        note(
          error instanceof ApiFailure ? `${error.error.code}: ${error.error.summary}` : String(error),
          "error",
        ),
      );
    }
  };
  const approve = h("button", { class: "primary", type: "button", onclick: decide("approve") }, "Approve");
  const reject = h("button", { class: "danger", type: "button", onclick: decide("reject") }, "Reject");
  const decision = h(
    "section",
    { class: "card", "aria-label": "Approval" },
    h("h2", {}, "Waiting for a decision"),
    h("div", { class: "row" }, h("label", { for: "decision-comment" }, "Comment "), comment),
    h("div", { class: "row" }, approve, reject),
  );
  const record = h("div");
  show(body, record);
  return {
    every: 2000,
    async refresh() {
      const run = await call("pipeline.show", { run: id });
      // The decision form stays as typed while the record below refreshes.
      if (run.state === "WaitingApproval" && !body.contains(decision)) body.prepend(decision);
      if (run.state !== "WaitingApproval" && body.contains(decision)) decision.remove();
      show(
        record,
        h(
          "section",
          { class: "card", "aria-label": `run ${run.id}` },
          h("header", {}, h("h2", {}, `${run.name} #${run.id}`), badge(run.state, TONE[run.state] ?? "bad")),
          h("p", {}, run.outcome ?? "under way", run.forced ? " (forced past the gate)" : ""),
          h(
            "table",
            {},
            h(
              "tbody",
              {},
              run.steps.map((s) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "when" }, s.name),
                  h(
                    "td",
                    {},
                    badge(
                      s.state,
                      s.state === "failed" || s.state === "stopped"
                        ? "bad"
                        : s.state === "cached"
                          ? "info"
                          : s.state === "done"
                            ? "good"
                            : "warn",
                    ),
                  ),
                  h("td", { class: "num when" }, s.ms === undefined ? "" : `${s.ms} ms`),
                  h("td", {}, s.detail ?? ""),
                ),
              ),
            ),
          ),
          run.gate
            ? [
                h(
                  "h3",
                  {},
                  "Gate ",
                  badge(
                    run.gate.verdict,
                    run.gate.verdict === "PROMOTE" ? "good" : run.gate.verdict === "HOLD" ? "warn" : "bad",
                  ),
                ),
                h(
                  "table",
                  {},
                  h(
                    "thead",
                    {},
                    h(
                      "tr",
                      {},
                      h("th", {}, "Rule"),
                      h("th", { class: "num" }, "Challenger"),
                      h("th", { class: "num" }, "Champion"),
                      h("th", {}, "Needs"),
                      h("th", {}, "Result"),
                    ),
                  ),
                  h(
                    "tbody",
                    {},
                    run.gate.rows.map((r) =>
                      h(
                        "tr",
                        {},
                        h("td", {}, r.rule),
                        h("td", { class: "num" }, num(r.challenger)),
                        h("td", { class: "num" }, num(r.champion)),
                        h("td", {}, r.needs),
                        h("td", {}, r.pass ? "✔ pass" : `✘ ${r.fails}`),
                      ),
                    ),
                  ),
                ),
              ]
            : null,
          run.approval
            ? h(
                "p",
                {},
                `${run.approval.decision} by ${run.approval.by} at ${time(run.approval.at)}${run.approval.comment ? `: ${run.approval.comment}` : ""}`,
              )
            : null,
          run.registered
            ? h("p", {}, `Registered models:/${run.registered.name}/${run.registered.version}`)
            : null,
          run.rollout
            ? h("p", {}, "Rollout ", badge(run.rollout.state), ` ${run.rollout.reason ?? ""}`)
            : null,
        ),
      );
    },
  };
}
