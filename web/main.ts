/**
 * pier's dashboard: a hash router over the views, each refreshed on its own timer while shown (one
 * request chain at a time, paused while the tab is hidden, so a page left open never floods pier).
 */
import { ApiFailure } from "./api";
import { h, note, show } from "./dom";
import { endpointView, TABS, type Tab } from "./views/endpoint";
import { endpointsView } from "./views/endpoints";
import { modelsView, modelView } from "./views/models";
import { pipelinesView, pipelineView } from "./views/pipelines";
import type { View } from "./views/view";

const main = document.getElementById("main")!;
const status = document.getElementById("status")!;
let current: { view: View; timer?: number; route: string } | undefined;

function route(hash: string): View {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "e" && parts[1]) {
    const tab = (TABS as readonly string[]).includes(parts[2] ?? "") ? (parts[2] as Tab) : "overview";
    return endpointView(main, parts[1], tab);
  }
  if (parts[0] === "models") return parts[1] ? modelView(main, parts[1]) : modelsView(main);
  if (parts[0] === "pipelines") return parts[1] ? pipelineView(main, parts[1]) : pipelinesView(main);
  return endpointsView(main);
}

async function tick(entry: NonNullable<typeof current>): Promise<void> {
  if (current !== entry) return;
  if (!document.hidden) {
    try {
      await entry.view.refresh();
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      status.textContent = "update failed";
      if (!(error instanceof ApiFailure) || error.status !== 401)
        main.prepend(
          note(
            error instanceof ApiFailure ? `${error.error.code}: ${error.error.summary}` : String(error),
            "error",
          ),
        );
    }
  }
  if (current === entry && entry.view.every)
    entry.timer = window.setTimeout(() => void tick(entry), entry.view.every);
}

function navigate(): void {
  const hash = location.hash || "#/";
  if (current) {
    window.clearTimeout(current.timer);
    current.view.stop?.();
  }
  show(main, h("p", { class: "muted" }, "Loading…"));
  const entry = { view: route(hash), route: hash };
  current = entry;
  main.focus({ preventScroll: true });
  void tick(entry);
}

window.addEventListener("hashchange", navigate);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && current) {
    window.clearTimeout(current.timer);
    void tick(current);
  }
});
navigate();
