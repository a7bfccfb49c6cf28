// Bundles the dashboard (web/) into dist/web: app.js (esbuild, minified, uPlot included), app.css
// (uPlot's stylesheet and ours), index.html. Nothing is fetched at run time.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/web");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, "web/main.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(out, "app.js"),
  legalComments: "linked",
  logLevel: "warning",
});
writeFileSync(
  join(out, "app.css"),
  `${readFileSync(join(root, "node_modules/uplot/dist/uPlot.min.css"), "utf8")}\n${readFileSync(join(root, "web/style.css"), "utf8")}`,
);
copyFileSync(join(root, "web/index.html"), join(out, "index.html"));
