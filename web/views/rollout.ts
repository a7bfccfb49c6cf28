/** A rollout: its steps, each step's checks against their thresholds, the verdict and why; promote or abort. */
import { ApiFailure, call } from "../api";
import { badge, h, note, show, time } from "../dom";
import type { Rollout } from "../types";
import { diagnosesBlock } from "./endpoint";
import type { View } from "./view";

const MARK: Record<string, string> = { pass: "✔", done: "✔", fail: "✘", insufficient: "…", pending: "…" };

function steps(rollout: Rollout): HTMLElement {
  return h(
    "ol",
    { class: "steps" },
    rollout.steps.map((s) =>
      h(
        "li",
        {},
        h("strong", {}, `${MARK[s.verdict ?? "pending"] ?? "·"} ${s.label}`),
        " ",
        badge(s.verdict ?? "pending"),
        ` ${s.reason ?? ""}`,
        s.checks?.length
          ? h(
              "ul",
              {},
              s.checks.map((c) => h("li", {}, `${c.ok === undefined ? "·" : c.ok ? "✔" : "✘"} ${c.line}`)),
            )
          : null,
      ),
    ),
  );
}

export function rolloutTab(panel: HTMLElement, name: string): View {
  const message = h("div", { "aria-live": "polite" });
  const body = h("div");
  show(panel, message, body);
  /** The rollout the last Promote or Abort answered about; its line goes once another rollout is current. */
  let actedOn: number | undefined;
  const act = (verb: "promote" | "abort") => async () => {
    if (
      !confirm(
        verb === "abort"
          ? "Roll back now: all traffic to the stable deployment?"
          : "Promote the new deployment now, skipping the remaining analysis?",
      )
    )
      return;
    try {
      const record = await call(verb === "abort" ? "rollouts.abort" : "rollouts.promote", { endpoint: name });
      actedOn = record.id;
      show(
        message,
        note(`Rollout #${record.id}: ${record.state}${record.reason ? ` (${record.reason})` : ""}`),
      );
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
  return {
    every: 1500,
    async refresh() {
      const history = await call("rollouts.history", { endpoint: name });
      const current = history[0];
      if (actedOn !== undefined && current?.id !== actedOn) {
        show(message);
        actedOn = undefined;
      }
      if (!current) {
        show(body, note(`No rollouts yet. Start one: pier rollout start -e ${name} -f green.yml`));
        return;
      }
      const open = current.state === "Running" || current.state === "Held";
      show(
        body,
        h(
          "section",
          { class: "card", "aria-label": `rollout ${current.id}` },
          h(
            "header",
            {},
            h(
              "h2",
              {},
              `Rollout #${current.id}: ${current.stable} → ${current.candidate} (${current.spec.strategy.type})`,
            ),
            badge(current.state),
          ),
          h(
            "p",
            { class: "muted" },
            `started ${time(current.startedAt)}${current.endedAt ? `, ended ${time(current.endedAt)}` : ""}`,
          ),
          current.reason ? h("p", {}, h("strong", {}, "Why: "), current.reason) : null,
          open
            ? h(
                "div",
                { class: "row" },
                h("button", { class: "primary", type: "button", onclick: act("promote") }, "Promote"),
                h("button", { class: "danger", type: "button", onclick: act("abort") }, "Abort (roll back)"),
              )
            : null,
          steps(current),
          current.notes.length
            ? h(
                "ul",
                {},
                current.notes.map((n) => h("li", { class: "muted" }, n)),
              )
            : null,
          diagnosesBlock(current.diagnosis),
        ),
        history.length > 1
          ? h(
              "section",
              { "aria-labelledby": "earlier-rollouts" },
              h("h2", { id: "earlier-rollouts" }, "Earlier rollouts"),
              h(
                "ul",
                {},
                history
                  .slice(1, 10)
                  .map((r) =>
                    h(
                      "li",
                      {},
                      `#${r.id} ${r.stable} → ${r.candidate} `,
                      badge(r.state),
                      ` ${time(r.startedAt)}${r.reason ? `: ${r.reason}` : ""}`,
                    ),
                  ),
              ),
            )
          : null,
      );
    },
  };
}
