/** The registry: models, their versions with aliases, tags, validation findings, and files with their hashes. */
import { call } from "../api";
import { badge, enc, h, show } from "../dom";
import type { View } from "./view";

const size = (bytes: number) =>
  bytes > 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

export function modelsView(main: HTMLElement): View {
  return {
    async refresh() {
      const models = await call("models.list", {});
      show(
        main,
        h("h1", {}, "Models"),
        models.length
          ? h(
              "table",
              {},
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", {}, "Model"),
                  h("th", {}, "Versions"),
                  h("th", {}, "Aliases"),
                  h("th", {}, "Tags"),
                ),
              ),
              h(
                "tbody",
                {},
                models.map((m) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("a", { href: `#/models/${enc(m.name)}` }, m.name)),
                    h("td", {}, m.versions.join(", ")),
                    h(
                      "td",
                      {},
                      Object.entries(m.aliases).map(([a, v]) => h("span", { class: "chip" }, `@${a} → ${v}`)),
                    ),
                    h(
                      "td",
                      {},
                      Object.entries(m.tags).map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)),
                    ),
                  ),
                ),
              ),
            )
          : h("p", { class: "note" }, "No registered models yet: pier model register ./model --name NAME"),
      );
    },
  };
}

export function modelView(main: HTMLElement, name: string): View {
  return {
    async refresh() {
      const model = await call("models.show", { model: name });
      show(
        main,
        h("h1", {}, h("a", { href: "#/models" }, "Models"), " / ", model.name),
        [...model.versions].reverse().map((v) =>
          h(
            "section",
            { class: "card", "aria-label": `version ${v.version}` },
            h(
              "header",
              {},
              h("h2", {}, `Version ${v.version}`),
              h(
                "span",
                {},
                v.aliases.map((a) => h("span", { class: "chip" }, `@${a}`)),
              ),
            ),
            h(
              "p",
              { class: "muted" },
              `${Object.keys(v.flavors).join(", ")} · ${size(v.sizeBytes)} · registered ${new Date(v.createdAt).toLocaleString()} from ${v.source}`,
            ),
            Object.keys(v.tags).length
              ? h(
                  "p",
                  {},
                  Object.entries(v.tags).map(([k, t]) => h("span", { class: "chip" }, `${k}=${t}`)),
                )
              : null,
            v.findings.length
              ? h(
                  "ul",
                  {},
                  v.findings.map((f) =>
                    h(
                      "li",
                      {},
                      badge(
                        f.severity,
                        f.severity === "error" ? "bad" : f.severity === "warning" ? "warn" : "muted",
                      ),
                      ` ${f.code}: ${f.message}`,
                    ),
                  ),
                )
              : h("p", {}, "Validation: no findings."),
            h(
              "table",
              {},
              h(
                "thead",
                {},
                h("tr", {}, h("th", {}, "File"), h("th", { class: "num" }, "Size"), h("th", {}, "sha256")),
              ),
              h(
                "tbody",
                {},
                v.artifacts.map((a) =>
                  h(
                    "tr",
                    {},
                    // A path folds after its slashes only; on a narrow screen the hash shows its start (all of it copies).
                    h(
                      "td",
                      { class: "file" },
                      a.path.split("/").flatMap((part, i) => (i ? ["/", h("wbr", {}), part] : [part])),
                    ),
                    h("td", { class: "num when" }, size(a.size)),
                    h("td", {}, h("code", { class: "sha", title: a.sha256 }, a.sha256)),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    },
  };
}
