/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against pier built in
 * this process (createPier, listening on 127.0.0.1): login by the one-time link, each view with real data, traffic changed in the page changes
 * routing, a rollout aborted from the page rolls back, a Failed deployment shows its diagnosis, and
 * nothing is readable or changeable without a session. Screenshots go to test-output/dashboard/.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { type Browser, chromium, type Page } from "playwright-core";
import { stringify } from "yaml";
import { FIXTURES, post, REPO_ROOT, servePier, tempDir, trainedWorkspace, waitFor } from "../helpers.js";

const run = promisify(execFile);
const CHROMIUM = process.env.PIER_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(REPO_ROOT, "test-output/dashboard");

test("the dashboard: every view with real data, traffic and rollouts driven from the page, sessions required", async (t) => {
  // The whole page stays small: what the browser downloads, gzipped.
  const bundle = ["app.js", "app.css", "index.html"].reduce(
    (sum, f) => sum + gzipSync(readFileSync(join(REPO_ROOT, "dist/web", f))).length,
    0,
  );
  assert.ok(bundle < 300 * 1024, `the dashboard is ${bundle} bytes gzipped`);

  const work = await trainedWorkspace("pier-dashboard-", 400);
  t.after(work.cleanup);
  const dir = tempDir(t);
  mkdirSync(SHOTS, { recursive: true });
  const pier = await servePier(t);
  const yml = (name: string, endpoint: string, model: string) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      stringify({
        name,
        endpoint_name: endpoint,
        model,
        instance_type: "Standard_DS3_v2",
        instance_count: 1,
      }),
    );
    return file;
  };
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  assert.equal(
    (await pier.run(["deployment", "create", "-f", yml("blue", "fin", work.model), "--all-traffic"])).code,
    0,
  );
  assert.equal((await pier.run(["deployment", "create", "-f", yml("green", "fin", work.model)])).code, 0);
  assert.equal((await pier.run(["endpoint", "create", "-n", "bad"])).code, 0);
  const failed = await pier.run([
    "deployment",
    "create",
    "-f",
    yml("lgbm", "bad", join(FIXTURES, "mlflow/lightgbm-iris")),
  ]);
  assert.equal(failed.code, 1, "the lightgbm fixture cannot run here: its deployment Fails");
  // Beside it, one that serves: the endpoint list must show both.
  assert.equal((await pier.run(["deployment", "create", "-f", yml("onnx", "bad", work.model)])).code, 0);
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout,
  ).primaryKey;
  const example = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8"));
  const score = () =>
    post(`${pier.url}/endpoints/fin/score`, { input_data: example }, { authorization: `Bearer ${key}` });
  for (let i = 0; i < 20; i++) assert.equal((await score()).status, 200);

  // Nothing without a session; a login link works once and leaves no secret in the URL.
  assert.equal((await fetch(`${pier.url}/dashboard/`)).status, 401);
  assert.equal((await fetch(`${pier.url}/api/v1/overview`)).status, 401);
  assert.equal((await fetch(`${pier.url}/dashboard/login?code=guess`)).status, 401);
  const link = pier.pier.dashboard.loginLink();

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page: Page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(link);
  assert.equal(page.url(), `${pier.url}/dashboard/`);
  const [cookie] = await context.cookies();
  assert.equal(cookie?.name, "pier_session");
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, "Strict");
  assert.equal((await fetch(link)).status, 401, "a login link opens one session only");
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const go = (hash: string) => page.goto(`${pier.url}/dashboard/${hash}`);

  // A bad percent-escape in a report's endpoint is the client's mistake: 400, not pier's 500.
  const badEscape = await page.request.get(`${pier.url}/dashboard/report/%ZZ`);
  assert.equal(badEscape.status(), 400, await badEscape.text());

  // Endpoints.
  await page.getByRole("link", { name: "fin", exact: true }).waitFor();
  await page.getByText("blue 100 %").waitFor();
  const badRow = page.getByRole("row").filter({ has: page.getByRole("link", { name: "bad", exact: true }) });
  await badRow.getByText("lgbm: Failed").waitFor();
  await badRow.getByText("onnx: Succeeded").waitFor();
  await shot("endpoints");

  // Endpoint: deployments, instances, live charts; then traffic changed in the page.
  await go("#/e/fin/overview");
  await page.getByRole("article", { name: "deployment blue" }).getByText("Ready").waitFor();
  await page.locator(".uplot").first().waitFor();
  await shot("endpoint");
  await page.getByLabel("traffic to blue (%)").fill("50");
  await page.getByLabel("traffic to green (%)").fill("50");
  await page.getByRole("button", { name: "Review change" }).click();
  await page.getByText("Set traffic blue=50,green=50; mirror off?").waitFor();
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByText("Traffic set: blue=50,green=50").waitFor();
  const served = new Set<string>();
  for (let i = 0; i < 40; i++) served.add((await score()).headers.get("azureml-model-deployment")!);
  assert.deepEqual([...served].sort(), ["blue", "green"], "requests now reach both deployments");
  // A rule the API enforces is shown, not bypassed.
  await page.getByLabel("traffic to blue (%)").fill("70");
  await page.getByRole("button", { name: "Review change" }).click();
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("alert").filter({ hasText: "100" }).waitFor();

  // A session cannot change anything without the page's CSRF header.
  const session = `pier_session=${cookie!.value}`;
  const forged = await fetch(`${pier.url}/api/v1/endpoints/fin`, {
    method: "PATCH",
    headers: { cookie: session, "content-type": "application/json" },
    body: JSON.stringify({ traffic: "blue=100,green=0" }),
  });
  assert.equal(forged.status, 401);
  const crossSite = await fetch(`${pier.url}/api/v1/endpoints/fin`, {
    method: "PATCH",
    headers: {
      cookie: session,
      "content-type": "application/json",
      "x-pier-csrf": "1",
      origin: "http://evil.example",
    },
    body: JSON.stringify({ traffic: "blue=100,green=0" }),
  });
  assert.equal(crossSite.status, 401);

  // Consume: the key masked, revealed on demand, never in the URL.
  await go("#/e/fin/consume");
  await page.getByText("••••").waitFor();
  const curlSample = page.locator("section.card", { hasText: "curl" }).locator("pre");
  assert.match((await curlSample.textContent()) ?? "", /Bearer <primary key: press Reveal above>/);
  await page.getByRole("button", { name: "Reveal" }).click();
  await page.getByText(key).first().waitFor();
  assert.ok(!page.url().includes(key));
  await shot("consume");
  // The samples work as printed: the real URL, the revealed key, the input example inline.
  const curl = (await curlSample.textContent()) ?? "";
  assert.ok(curl.includes(`${pier.url}/endpoints/fin/score`) && curl.includes(key), curl);
  // Run beside pier, which serves from this process: asynchronously, or the sample would wait on itself.
  const { stdout: curlRun } = await run("sh", ["-c", curl], { encoding: "utf8" });
  assert.match(curlRun, /"probabilities"/, curlRun);
  const python =
    (await page.locator("section.card", { hasText: "Python" }).locator("pre").textContent()) ?? "";
  const { stdout: pythonRun } = await run(
    process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3",
    ["-c", python],
    {
      encoding: "utf8",
    },
  );
  assert.match(pythonRun, /'probabilities'/, pythonRun);

  // Test: the model's input example, sent from the page.
  await go("#/e/fin/test");
  await page.getByLabel("request body").waitFor();
  await waitFor(
    async () => (await page.getByLabel("request body").inputValue()).includes("input_data"),
    "the input example",
  );
  // The rows are in sight: each on one line, not one value per line.
  const requestBody = await page.getByLabel("request body").inputValue();
  assert.match(requestBody, /^ {6}\[\d[^\n]*"(Deposit|Withdrawal|Transfer)"[^\n]*\]/m, requestBody);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#test-answer").waitFor();
  assert.match((await page.locator("#test-answer").textContent()) ?? "", /probabilities/);
  await shot("test");

  // Logs and events.
  await go("#/e/fin/logs");
  await waitFor(
    async () => /model loaded from/.test((await page.locator("#logs").textContent()) ?? ""),
    "log lines",
  );
  await shot("logs");
  await go("#/e/fin/events");
  await page.getByText("EndpointUpdated").first().waitFor();
  const wheres = await page.locator("tbody tr td:nth-child(3)").allTextContents();
  assert.ok(
    wheres.length > 0 && wheres.every((w) => w.trim() !== ""),
    `every event says what it is about: ${wheres}`,
  );
  assert.ok(wheres.includes("endpoint fin"));
  await shot("events");

  // Monitoring: the report in its frame.
  await go("#/e/fin/monitoring");
  await page.frameLocator("iframe.report").getByText("Monitoring: fin").waitFor();
  // A window without captured rows reads as no data, not as a measured 0.
  const driftRow = page
    .frameLocator("iframe.report")
    .getByRole("row")
    .filter({ hasText: "Transaction Amount" })
    .first();
  assert.match((await driftRow.textContent()) ?? "", /–.*insufficient data/);
  assert.doesNotMatch((await driftRow.textContent()) ?? "", /0\.000/);
  await shot("monitoring");

  // A rollout, aborted from the page: rolled back to the stable deployment.
  assert.equal((await pier.run(["endpoint", "update", "fin", "--traffic", "blue=100,green=0"])).code, 0);
  const rolloutFile = join(dir, "rollout.yml");
  writeFileSync(
    rolloutFile,
    stringify({ strategy: { wait_interval_seconds: 3600 }, analysis: { min_requests: 1_000_000 } }),
  );
  const started = await pier.run([
    "rollout",
    "start",
    "-e",
    "fin",
    "--deployment",
    "green",
    "-r",
    rolloutFile,
  ]);
  assert.equal(started.code, 0, started.stderr);
  await go("#/e/fin/rollout");
  await page.getByText("blue → green (canary)").waitFor();
  await page.getByText("shadow 20 %").waitFor();
  await shot("rollout");
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Abort (roll back)" }).click();
  await page.getByText(/Rollout #\d+: Aborted/).waitFor();
  const status = JSON.parse((await pier.run(["rollout", "status", "-e", "fin", "-o", "json"])).stdout);
  assert.equal(status.state, "Aborted");
  assert.deepEqual(JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout).traffic, {
    blue: 100,
  });
  // A second rollout: the first is listed below it, with how it ended.
  const again = await pier.run(["rollout", "start", "-e", "fin", "--deployment", "green", "-r", rolloutFile]);
  assert.equal(again.code, 0, again.stderr);
  await page.getByRole("heading", { name: /Rollout #\d+: blue → green/ }).waitFor();
  const earlier = page.getByRole("region", { name: "Earlier rollouts" });
  await earlier.getByText(/#\d+ blue → green/).waitFor();
  await earlier.getByText("Aborted").waitFor();
  await shot("rollout-history");
  assert.equal((await pier.run(["rollout", "abort", "-e", "fin"])).code, 0);

  // A Failed deployment shows the doctor's diagnosis.
  await go("#/e/bad/overview");
  await page.getByRole("article", { name: "deployment lgbm" }).getByText("Failed").waitFor();
  await page.getByRole("region", { name: "Diagnosis" }).getByText("PackageMissing").first().waitFor();
  await shot("diagnosis");

  // Models: versions, findings, files and hashes.
  await go("#/models");
  await page
    .getByRole("link", { name: /fin-blue|fin/ })
    .first()
    .click();
  await page.getByText("sha256").waitFor();
  await page.getByText("model.onnx").waitFor();
  await shot("model");
  const modelPage = page.url();

  // Pipelines: a run waiting for approval, approved from the page; the record keeps who and why.
  const pipelineFile = join(dir, "pipeline.yml");
  writeFileSync(
    pipelineFile,
    stringify({
      name: "dash",
      data: { synthetic: { rows: 1000, seed: 3 } },
      target: "Anomaly",
      train: { n_estimators: 10 },
      gate: { metrics: { roc_auc: { threshold: 0.5, greater_is_better: true } }, leakage: "warn" },
      approval: { required: true },
      register: { model: "dash-model" },
      rollout: { endpoint: "pipe" },
    }),
  );
  const queued = JSON.parse(
    (await pier.run(["pipeline", "run", "-f", pipelineFile, "--no-wait", "-o", "json"])).stdout,
  );
  await go(`#/pipelines/${queued.id}`);
  await page.getByText("Waiting for a decision").waitFor();
  await shot("pipeline");
  await page.getByLabel("comment").fill("gate table read");
  await page.getByRole("button", { name: "Approve" }).click();
  await page
    .getByRole("region", { name: `run ${queued.id}` })
    .locator("header")
    .getByText("Succeeded", { exact: true })
    .waitFor();
  const approvedRun = JSON.parse(
    (await pier.run(["pipeline", "show", String(queued.id), "-o", "json"])).stdout,
  );
  assert.deepEqual(
    [approvedRun.approval.decision, approvedRun.approval.by, approvedRun.approval.comment],
    ["approved", "dashboard", "gate table read"],
  );
  await go("#/pipelines");
  await page.getByRole("link", { name: `#${queued.id}` }).waitFor();

  // Keyboard and a narrow window: the tabs are reachable by Tab, the list fits 420 px.
  await go("#/e/fin/overview");
  await page.getByRole("tab", { name: "Overview" }).waitFor();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.ok(await page.evaluate("document.activeElement?.tagName === 'A'"));
  await page.setViewportSize({ width: 420, height: 800 });
  await go("#/");
  await page.getByRole("link", { name: "fin", exact: true }).waitFor();
  assert.ok(
    await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 2"),
    "no sideways scrolling at 420 px",
  );
  await shot("endpoints-narrow");
  // Every view, at both widths: nothing sticks out of the window, long text folds.
  const views = [
    ["endpoints", "#/", "table"],
    ["endpoint", "#/e/fin/overview", ".uplot"],
    ["rollout", "#/e/fin/rollout", "section"],
    ["monitoring", "#/e/fin/monitoring", "iframe.report"],
    ["consume", "#/e/fin/consume", "pre.log"],
    ["test", "#/e/fin/test", "textarea"],
    ["logs", "#/e/fin/logs", "#logs"],
    ["events", "#/e/fin/events", "table"],
    ["diagnosis", "#/e/bad/overview", ".diagnosis"],
    ["models", "#/models", "table"],
    ["model", modelPage.slice(modelPage.indexOf("#")), "table"],
    ["pipelines", "#/pipelines", "table"],
    ["pipeline", `#/pipelines/${queued.id}`, "header"],
  ] as const;
  for (const width of [1280, 420]) {
    await page.setViewportSize({ width, height: 800 });
    for (const [name, hash, ready] of views) {
      await go(hash);
      await page.locator(ready).first().waitFor();
      if (width === 420) await shot(`${name}-narrow`);
      const overflow = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 2).slice(0, 5).map((e) => e.tagName + '.' + e.className).join(' ')]",
      );
      const [scrollWidth, innerWidth, culprits] = overflow as [number, number, string];
      assert.ok(
        scrollWidth <= innerWidth + 2,
        `${name} at ${width} px scrolls sideways (${scrollWidth} px): ${culprits}`,
      );
    }
  }
  assert.deepEqual(errors, []);
});
